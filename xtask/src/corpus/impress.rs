//! The LibreOffice Impress deck of the tune half, written as flat ODF
//! (`.fodp`, one XML file LibreOffice opens as is): same-template slides,
//! a diagram that changes a little between slides, and a fade transition.

const HEAD: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
 xmlns:smil="urn:oasis:names:tc:opendocument:xmlns:smil-compatible:1.0"
 xmlns:anim="urn:oasis:names:tc:opendocument:xmlns:animation:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.presentation">
<office:styles>
 <draw:marker draw:name="Arrow" svg:viewBox="0 0 20 30" svg:d="M10 0l-10 30h20z"/>
</office:styles>
<office:automatic-styles>
 <style:page-layout style:name="PM1"><style:page-layout-properties fo:margin-top="0cm" fo:margin-bottom="0cm" fo:margin-left="0cm" fo:margin-right="0cm" fo:page-width="28cm" fo:page-height="15.75cm" style:print-orientation="landscape"/></style:page-layout>
 <style:style style:name="dp1" style:family="drawing-page"><style:drawing-page-properties draw:fill="solid" draw:fill-color="#f4f1ea" presentation:background-visible="true" presentation:background-objects-visible="true"/></style:style>
 <style:style style:name="dpfade" style:family="drawing-page"><style:drawing-page-properties draw:fill="solid" draw:fill-color="#f4f1ea" presentation:background-visible="true" presentation:background-objects-visible="true" presentation:transition-speed="slow" smil:type="fade" smil:subtype="crossfade"/></style:style>
 <style:style style:name="band" style:family="graphic"><style:graphic-properties draw:stroke="none" draw:fill="solid" draw:fill-color="#2d5f3f"/></style:style>
 <style:style style:name="frame" style:family="graphic"><style:graphic-properties draw:stroke="none" draw:fill="none" draw:textarea-vertical-align="top"/></style:style>
 <style:style style:name="box" style:family="graphic"><style:graphic-properties draw:stroke="solid" svg:stroke-color="#2d5f3f" svg:stroke-width="0.06cm" draw:fill="solid" draw:fill-color="#dfeadf" draw:textarea-vertical-align="middle"/></style:style>
 <style:style style:name="boxhot" style:family="graphic"><style:graphic-properties draw:stroke="solid" svg:stroke-color="#2d5f3f" svg:stroke-width="0.06cm" draw:fill="solid" draw:fill-color="#f2c14e" draw:textarea-vertical-align="middle"/></style:style>
 <style:style style:name="arrow" style:family="graphic"><style:graphic-properties draw:stroke="solid" svg:stroke-color="#2d5f3f" svg:stroke-width="0.06cm" draw:marker-end="Arrow" draw:marker-end-width="0.35cm"/></style:style>
 <style:style style:name="PT" style:family="paragraph"><style:text-properties fo:font-family="DejaVu Sans" fo:font-size="34pt" fo:font-weight="bold" fo:color="#ffffff"/></style:style>
 <style:style style:name="PB" style:family="paragraph"><style:paragraph-properties fo:margin-bottom="0.3cm"/><style:text-properties fo:font-family="DejaVu Sans" fo:font-size="22pt" fo:color="#222222"/></style:style>
 <style:style style:name="PC" style:family="paragraph"><style:paragraph-properties fo:text-align="center"/><style:text-properties fo:font-family="DejaVu Sans" fo:font-size="16pt" fo:color="#222222"/></style:style>
 <style:style style:name="PF" style:family="paragraph"><style:text-properties fo:font-family="DejaVu Sans" fo:font-size="11pt" fo:color="#666666"/></style:style>
 <style:style style:name="PBig" style:family="paragraph"><style:text-properties fo:font-family="DejaVu Sans" fo:font-size="44pt" fo:font-weight="bold" fo:color="#2d5f3f"/></style:style>
</office:automatic-styles>
<office:master-styles>
 <style:master-page style:name="Default" style:page-layout-name="PM1" draw:style-name="dp1"/>
</office:master-styles>
<office:body><office:presentation>
"##;

const TAIL: &str = "</office:presentation></office:body></office:document>\n";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn frame(x: f64, y: f64, w: f64, h: f64, body: &str) -> String {
    format!(
        r#"<draw:frame draw:style-name="frame" svg:x="{x}cm" svg:y="{y}cm" svg:width="{w}cm" svg:height="{h}cm"><draw:text-box>{body}</draw:text-box></draw:frame>"#
    )
}

/// The template every content slide shares: a title band, a footer.
fn page(n: usize, total: usize, style: &str, title: &str, content: &str) -> String {
    format!(
        r#"<draw:page draw:name="s{n}" draw:master-page-name="Default" draw:style-name="{style}">
<draw:rect draw:style-name="band" svg:x="0cm" svg:y="0cm" svg:width="28cm" svg:height="2.8cm"/>
{title}{content}{foot}
</draw:page>
"#,
        title = frame(1.2, 0.55, 25.0, 2.0, &format!(r#"<text:p text:style-name="PT">{}</text:p>"#, esc(title))),
        foot = frame(
            1.2,
            14.6,
            25.0,
            0.8,
            &format!(r#"<text:p text:style-name="PF">Platform review · slide {n} of {total}</text:p>"#)
        ),
    )
}

fn bullets(items: &[&str]) -> String {
    let ps: String = items
        .iter()
        .map(|b| format!(r#"<text:p text:style-name="PB">• {}</text:p>"#, esc(b)))
        .collect();
    frame(1.6, 3.6, 24.5, 10.5, &ps)
}

fn boxed(x: f64, y: f64, label: &str, hot: bool) -> String {
    let style = if hot { "boxhot" } else { "box" };
    format!(
        r#"<draw:rect draw:style-name="{style}" svg:x="{x}cm" svg:y="{y}cm" svg:width="4.6cm" svg:height="1.8cm"><text:p text:style-name="PC">{}</text:p></draw:rect>"#,
        esc(label)
    )
}

fn line(x1: f64, y1: f64, x2: f64, y2: f64) -> String {
    format!(
        r#"<draw:line draw:style-name="arrow" svg:x1="{x1}cm" svg:y1="{y1}cm" svg:x2="{x2}cm" svg:y2="{y2}cm"/>"#
    )
}

fn diagram(step: u32) -> String {
    let mut s = String::new();
    s += &boxed(1.2, 5.0, "Capture", false);
    s += &line(5.8, 5.9, 7.4, 5.9);
    s += &boxed(7.4, 5.0, "Encoder", false);
    s += &line(12.0, 5.9, 13.6, 5.9);
    s += &if step >= 1 {
        boxed(13.6, 5.0, "TS muxer (v2)", true)
    } else {
        boxed(13.6, 5.0, "TS muxer", false)
    };
    s += &line(18.2, 5.9, 19.8, 5.9);
    s += &boxed(19.8, 5.0, "Network", false);
    s += &boxed(7.4, 9.5, "Preview", false);
    s += &line(9.7, 6.8, 9.7, 9.5);
    if step >= 2 {
        s += &boxed(19.8, 9.5, "Archive", false);
        s += &line(22.1, 6.8, 22.1, 9.5);
    }
    s
}

/// The deck's XML.
pub fn deck() -> String {
    let total = 10;
    let mut body = String::new();
    body += &format!(
        r#"<draw:page draw:name="s1" draw:master-page-name="Default" draw:style-name="dp1">{}{}</draw:page>
"#,
        frame(2.0, 5.0, 24.0, 2.5, r#"<text:p text:style-name="PBig">Sender Platform Review</text:p>"#),
        frame(2.0, 8.0, 24.0, 1.5, r#"<text:p text:style-name="PB">Capture, encode and deliver: status and plans</text:p>"#)
    );
    body += &page(2, total, "dp1", "Goals", &bullets(&["Capture any screen at 30 fps", "Encode within one frame time", "Deliver over TCP and UDP", "Recover from network loss"]));
    body += &page(3, total, "dp1", "Constraints", &bullets(&["Laptops with two cores", "Upload links of 3 Mb/s", "No driver installs", "Works behind corporate proxies"]));
    body += &page(4, total, "dp1", "Risks", &bullets(&["Encoder falls behind on 4K screens", "Colour shifts on HDR displays", "Audio drifts after an hour", "Firewalls drop long connections"]));
    body += &page(5, total, "dp1", "Data flow", &diagram(0));
    body += &page(6, total, "dp1", "Data flow", &diagram(1));
    body += &page(7, total, "dp1", "Data flow", &diagram(2));
    body += &page(8, total, "dpfade", "Metrics", &bullets(&["Capture-to-send latency", "Dropped frames per hour", "Reconnects per session", "CPU share of the encoder"]));
    body += &page(9, total, "dp1", "Summary", &bullets(&["One pipeline, measured end to end", "Two risks need owners", "Next review in a month"]));
    body += &page(10, total, "dp1", "Questions", &bullets(&["Thank you"]));
    format!("{HEAD}{body}{TAIL}")
}
