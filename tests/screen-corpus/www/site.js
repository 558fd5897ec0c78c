// Shared by the site's pages: the header links and deterministic long text.
// accesskey: Alt+key in Chromium (the corpus script navigates with them).
const NAV = [['index.html','Home','h'],['article1.html','Release notes','r'],['article2.html','Design doc','g'],['status.html','Deploy','s'],['dashboard.html','Dashboard','b'],['video.html','Demo video','v']];
function header(title) {
  document.write('<header>' + title + NAV.map(([h, t, k]) => `<a href="${h}" accesskey="${k}">${t}</a>`).join('') + '</header>');
}
const WORDS = 'stream segment decoder frame picture agent session latency buffer keyframe packet sender recorder relay transcript chunk scene index threshold window pipeline memory network socket clock timestamp'.split(' ');
function paragraphs(n, seed, headings) {
  let out = '';
  for (let p = 0; p < n; p++) {
    if (headings && p % 4 === 0) out += `<h2>${headings} ${p / 4 + 1}</h2>`;
    let words = [];
    const len = 40 + (seed % 50);
    for (let w = 0; w < len; w++) { seed = (seed * 1103515245 + 12345) & 0x7fffffff; words.push(WORDS[seed % WORDS.length]); }
    words[0] = words[0][0].toUpperCase() + words[0].slice(1);
    out += `<p>${p + 1}. ${words.join(' ')}.</p>`;
  }
  document.write(out);
}
