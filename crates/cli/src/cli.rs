//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// cht: record a live MPEG-TS screen share over TCP into crash-safe
/// fragmented MP4 segments, relay it to a local player, and keep everything
/// in a session directory.
#[derive(Debug, Parser)]
#[command(name = "cht", version, propagate_version = true)]
pub struct Cli {
    /// Directory holding the sessions.
    #[arg(
        long,
        global = true,
        env = "CHT_SESSIONS_DIR",
        default_value = "sessions"
    )]
    pub sessions_dir: PathBuf,
    /// More logging (-v debug, -vv trace). CHT_LOG=<filter> overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only warnings and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Listen for a TS sender and record it into sessions/<id>/stream/recording_NNN.mp4.
    ///
    /// Send a stream with e.g.:
    ///   ffmpeg -re -i in.mp4 -c:v libx264 -pix_fmt yuv420p -c:a aac -f mpegts tcp://127.0.0.1:4444
    /// or share a Linux screen (X11) with sound:
    ///   ffmpeg -f x11grab -framerate 30 -i :0 -f pulse -i default -c:v libx264 -preset veryfast
    ///     -tune zerolatency -pix_fmt yuv420p -c:a aac -f mpegts tcp://127.0.0.1:4444
    /// and watch it live with: mpv udp://127.0.0.1:4445
    ///
    /// Keep `-pix_fmt yuv420p`: for a screen grab libx264 otherwise picks
    /// 4:4:4, which is recorded but cannot be decoded for scene frames.
    ///
    /// Recorded: H.264, HEVC and MPEG-2 video; AAC (ADTS or LATM, any channel
    /// count), MP2/MP3, AC-3/E-AC-3 and Opus audio, every audio track. Scene
    /// frames need H.264 (8-bit 4:2:0); audio chunks need AAC or MP2/MP3.
    /// Anything else is recorded where MP4 can hold it and named once in the
    /// log (a `warning` event) with the sender option that fixes it.
    #[command(verbatim_doc_comment)]
    Record(RecordArgs),
    /// Print tracks, frame counts and duration of a TS file, an MP4 file, a
    /// recording segment or a whole session directory.
    Probe(ProbeArgs),
    /// Convert a TS file to fragmented MP4 with the recorder's writer.
    Remux(RemuxArgs),
    /// List, inspect or delete sessions.
    Sessions(SessionsArgs),
    /// Scene frames (JPEG + index.json) and audio chunks (WAV + index.json)
    /// from a TS file, an MP4 file, a recording segment or a whole session.
    Analyze(AnalyzeArgs),
    /// One line per decoded frame: frame_index,pts_time,score (no files written).
    Scores(ScoresArgs),
    /// What the running `cht record` is doing (its control API's GET /status).
    Status(ControlArgs),
    /// Write the running recording's current picture as a frame now.
    Capture(ControlArgs),
    /// Change the running recording's scene threshold (0-1).
    Threshold(ThresholdArgs),
    /// List the running recording's frames, or mark some as sent to the agent.
    Frames(FramesArgs),
    /// Serve the HTTP API over the sessions (loopback; prints the URL with
    /// its token, as Jupyter does). Records nothing; the one change it makes
    /// is marking pictures as sent to the agent.
    Serve(ServeArgs),
    /// Write a session as a folder that opens in a browser with no server
    /// (page, video, pictures and transcript; open DIR/index.html).
    Export(ExportArgs),
    /// An MCP server on stdin/stdout, for agent hosts (Claude Desktop,
    /// Claude Code, IDE agents): the sessions' pictures, transcripts and
    /// timelines as tools and resources, and the running recording's
    /// controls. See the README for the client configuration.
    Mcp(McpArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to serve on (loopback only).
    #[arg(long, default_value = "127.0.0.1:4447")]
    pub listen: SocketAddr,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The session's id (`cht sessions list` shows them).
    pub session: String,
    /// Folder to write the page into (created; it must be new or empty).
    #[arg(long, value_name = "DIR")]
    pub html: PathBuf,
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// Control API of the running `cht record`, when the recording session
    /// does not say (it names its recorder's address itself).
    #[command(flatten)]
    pub control: ControlArgs,
    /// Pictures `new_pictures` returns at most per call (the rest wait for
    /// the next call).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_pictures: u32,
    /// Width in pixels pictures are scaled down to for the agent (0: as
    /// recorded); a tool call may ask for another.
    #[arg(long, default_value_t = 1280)]
    pub picture_width: u32,
}

/// Where the thin clients find a running `cht record`.
#[derive(Debug, Clone, Args)]
pub struct ControlArgs {
    /// Control API address of the running `cht record`.
    #[arg(
        long,
        global = true,
        value_name = "ADDR",
        env = "CHT_CONTROL",
        default_value = "127.0.0.1:4446"
    )]
    pub control: SocketAddr,
    /// File holding the control API's token. Default: the one `cht record`
    /// wrote for ADDR, in $XDG_RUNTIME_DIR/cht/ or <sessions-dir>/.run/.
    #[arg(long, global = true, value_name = "PATH", env = "CHT_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ThresholdArgs {
    /// New scene threshold on ffmpeg's scale (0-1).
    #[arg(value_parser = parse_threshold)]
    pub threshold: f64,
    #[command(flatten)]
    pub control: ControlArgs,
}

#[derive(Debug, Args)]
pub struct FramesArgs {
    /// Only frames not yet marked as sent to the agent.
    #[arg(long)]
    pub unsent: bool,
    #[command(flatten)]
    pub control: ControlArgs,
    #[command(subcommand)]
    pub command: Option<FramesCommand>,
}

#[derive(Debug, Subcommand)]
pub enum FramesCommand {
    /// Mark frames as sent to the agent (sets `sent_to_agent` in index.json).
    Sent {
        /// The pictures' ids (`F0001`...).
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// A .ts file, an .mp4 file or a session directory (or use --session).
    #[arg(required_unless_present = "session")]
    pub input: Option<PathBuf>,
    /// Analyse this session (from --sessions-dir) instead of INPUT.
    #[arg(long, value_name = "ID", conflicts_with = "input")]
    pub session: Option<String>,
    /// Output directory: DIR/frames/F0001.jpg.., DIR/frames/index.json,
    /// DIR/audio/chunk_0000.wav.., DIR/audio/index.json. Default: ./analysis
    /// (for --session: the session itself).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Decoding threads (0: one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub jobs: usize,
    /// Decode every picture. By default the default detector leaves out the
    /// pictures no other picture is predicted from (most B-frames), and the
    /// B-frames only those refer to (x264's B-pyramid with one reference
    /// frame) where the screen hardly moved around them: its events are the
    /// same to a frame, at a third to half less decoding. (--detector
    /// ffmpeg always decodes every picture.)
    #[arg(long)]
    pub every_picture: bool,
    /// Print each frame entry as a JSON line and a JSON summary at the end.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ScoresArgs {
    /// A .ts file, an .mp4 file or a session directory.
    pub input: PathBuf,
    /// Scene-change detector.
    #[arg(long, value_enum, default_value_t = DetectorArg::Ffmpeg)]
    pub detector: DetectorArg,
    /// Threshold that marks a line as a cut (4th column, with --cuts).
    #[arg(long, default_value_t = 0.3, value_parser = parse_threshold)]
    pub scene_threshold: f64,
    /// Add a 4th column: 1 when the frame is a cut.
    #[arg(long)]
    pub cuts: bool,
    /// Decoding threads (0: one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub jobs: usize,
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    #[command(subcommand)]
    pub command: SessionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// All sessions, newest first: segments, duration, frames, audio chunks, size.
    List {
        /// Print one JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One session in detail (read-only: nothing is started or written).
    Show {
        /// The session's id (`cht sessions list` shows them).
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Delete sessions (asks first unless --yes).
    Delete {
        /// The ids of the sessions to delete.
        #[arg(required = true)]
        ids: Vec<String>,
        /// Do not ask.
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Debug, Clone, Args)]
pub struct RecordArgs {
    /// Address to listen on. A non-loopback address accepts senders from
    /// other hosts: an explicit choice, logged as such.
    #[arg(long, default_value = "127.0.0.1:4444")]
    pub listen: SocketAddr,
    /// Where to relay the raw TS over UDP for live viewing, or `off`.
    #[arg(long, default_value = "127.0.0.1:4445", value_parser = parse_endpoint)]
    pub relay: Endpoint,
    /// Resume an existing session (new segments go after its last one)
    /// instead of creating a new one.
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// Longest fragment in milliseconds: the most a crash can lose, and
    /// what the browser's live view waits for at most before it can show
    /// new media (it plays fragments as they are written).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(100..=60_000))]
    pub fragment_ms: u32,
    /// Drop a sender that delivers no complete video or audio frame for
    /// this long (e.g. 10s, 500ms); bytes alone do not count. A new sender
    /// waits at most this long for a stalled one's slot.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// Exit after the first sender disconnects.
    #[arg(long)]
    pub once: bool,
    /// fsync each fragment (slower; survives power loss, not just crashes).
    #[arg(long)]
    pub fsync: bool,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Print one JSON object per line on stdout for every event (sender,
    /// segment, frame, audio chunk, transcript, warning, stats).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub events: Option<EventsFormat>,
    /// Run CMD for each scene frame written (the JPEG path is the last argument).
    #[arg(long, value_name = "CMD")]
    pub on_frame: Option<String>,
    /// Run CMD for each finished segment (the MP4 path is the last argument).
    #[arg(long, value_name = "CMD")]
    pub on_segment: Option<String>,
    /// Run CMD for each finished audio chunk (the WAV path is the last
    /// argument; e.g. a whisper CLI); its stdout is kept as the transcript.
    #[arg(long, value_name = "CMD")]
    pub on_audio_chunk: Option<String>,
    /// Control API address (loopback only), or `off`. Every request must
    /// carry the per-run token that cht writes (mode 0600) to
    /// $XDG_RUNTIME_DIR/cht/ or <sessions-dir>/.run/; the thin clients
    /// (`cht status` ...) read it themselves.
    #[arg(long, default_value = "127.0.0.1:4446", value_parser = parse_endpoint)]
    pub control: Endpoint,
    /// No sender needed: feed the recorder from the built-in demo source
    /// (synthetic slides, a pointer, typing and a sound loop) over TCP.
    #[arg(long)]
    pub demo: bool,
    /// With --demo: stop after this long (e.g. 20s); default: until Ctrl-C.
    #[arg(long, value_parser = parse_duration, requires = "demo")]
    pub demo_duration: Option<Duration>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EventsFormat {
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DetectorArg {
    /// New screens: one settled picture per slide, window, tab or page
    /// switch and per shot cut; update pictures as a screen builds up;
    /// ignores pointer, typing, scrolling output, videos inside a page.
    Default,
    /// ffmpeg's `select='gt(scene,T)'` score, exactly.
    Ffmpeg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AudioFormatArg {
    /// 16 kHz mono 16-bit, what speech recognisers take.
    Speech,
    /// The stream's own rate and channels.
    Source,
}

/// Scene frames and audio chunks.
#[derive(Debug, Clone, Args)]
pub struct AnalysisArgs {
    /// Scene-change detector.
    #[arg(long, value_enum, default_value_t = DetectorArg::Default)]
    pub detector: DetectorArg,
    /// Scene threshold on ffmpeg's scale (0-1): with `--detector ffmpeg` it
    /// means what `select='gt(scene,T)'` means; with the default detector,
    /// lower finds smaller changes (the area a change must cover scales
    /// with it).
    #[arg(long, default_value_t = 0.3, value_parser = parse_threshold)]
    pub scene_threshold: f64,
    /// Seconds the screen must stay still before the default detector takes
    /// the picture of a change (so the picture shows it finished; in
    /// continuous motion the picture is taken 1.5 s after the change began).
    #[arg(long, default_value_t = 0.4, value_name = "SECS", value_parser = parse_settle)]
    pub settle: f64,
    /// Nominal audio chunk length in seconds (each cut moves up to 1 s to a quiet spot).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=3600))]
    pub audio_chunk_secs: u32,
    /// WAV format of the audio chunks.
    #[arg(long, value_enum, default_value_t = AudioFormatArg::Speech)]
    pub audio_format: AudioFormatArg,
    /// No audio chunks.
    #[arg(long)]
    pub no_audio: bool,
}

pub fn parse_settle(s: &str) -> Result<f64, String> {
    let t: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if (0.05..=5.0).contains(&t) {
        Ok(t)
    } else {
        Err(format!("{t} s is outside 0.05..5 s"))
    }
}

pub fn parse_threshold(s: &str) -> Result<f64, String> {
    let t: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1.0).contains(&t) {
        Ok(t)
    } else {
        Err(format!(
            "{t} is outside 0..1 (it means what ffmpeg's select='gt(scene,T)' means)"
        ))
    }
}

/// An address a service of `cht record` uses (`--relay`, `--control`), or
/// `off` for no such service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// The service is off.
    Off,
    /// The service's address.
    At(SocketAddr),
}

impl Endpoint {
    /// The address, unless the service is off.
    pub fn addr(self) -> Option<SocketAddr> {
        match self {
            Endpoint::Off => None,
            Endpoint::At(addr) => Some(addr),
        }
    }
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// A .ts/.m2ts file, an .mp4 file or a session directory.
    pub file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RemuxArgs {
    /// Input MPEG-TS file.
    pub input: PathBuf,
    /// Output fragmented MP4 file.
    pub output: PathBuf,
    /// Longest fragment in milliseconds.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(100..=60_000))]
    pub fragment_ms: u32,
}

fn parse_endpoint(s: &str) -> Result<Endpoint, String> {
    if s.eq_ignore_ascii_case("off") || s.eq_ignore_ascii_case("none") {
        return Ok(Endpoint::Off);
    }
    s.parse()
        .map(Endpoint::At)
        .map_err(|e| format!("{e}: expected HOST:PORT or `off`"))
}

/// `10`, `10s`, `500ms`, `2m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a duration like 10s or 500ms"))?;
    let secs = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        other => return Err(format!("unknown unit {other:?} (use ms, s or m)")),
    };
    if !(secs > 0.0 && secs.is_finite()) {
        return Err("duration must be positive".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5h").is_err());
    }

    /// Every flag and argument of every command says what it is for.
    #[test]
    fn every_argument_has_help() {
        use clap::CommandFactory;
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                assert!(
                    sub.get_about().is_some(),
                    "{path} {} has no about",
                    sub.get_name()
                );
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "cht", &mut missing);
        assert!(missing.is_empty(), "arguments without help: {missing:?}");
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
