// cht's pages: the sessions page, the session page and the live view.
// Plain JavaScript, no build step. Served by `cht serve` and `cht record`
// (data from the HTTP API, same origin), or opened from a folder written by
// `cht export --html` (data inlined in data.js as window.CHT_DATA, since
// fetch() does not work on file://).
//
// Playing a session: one <video> plays the segment files one after the
// other (it switches `src` when one ends); session time = the segment's
// start + (media time - its media_start). The live view feeds the segment
// being recorded to Media Source Extensions, fragment by fragment, as the
// recorder writes it (ranged GETs of the growing file).
'use strict';
(() => {
  const DATA = window.CHT_DATA || null;
  const app = document.getElementById('app');

  // ---------- small helpers ----------
  function el(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat()) {
      if (kid !== null && kid !== undefined) node.append(kid);
    }
    return node;
  }
  function clock(seconds) {
    const tenths = Math.round(Math.max(0, seconds || 0) * 10);
    const h = Math.floor(tenths / 36000), m = Math.floor(tenths / 600) % 60;
    const s = ((tenths % 600) / 10).toFixed(1).padStart(4, '0');
    return (h ? h + ':' + String(m).padStart(2, '0') : String(m).padStart(2, '0')) + ':' + s;
  }
  function bytes(n) {
    const units = ['B', 'kB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(n < 10 ? 1 : 0) : n) + ' ' + units[i];
  }
  function when(epoch) {
    if (!epoch) return '—';
    const d = new Date(epoch * 1000);
    const pad = (x) => String(x).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  async function getJSON(url) {
    const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
    if (!r.ok) {
      let why = await r.text();
      try { why = JSON.parse(why).error || why; } catch (_) { /* text */ }
      throw new Error(`${url}: HTTP ${r.status}: ${why}`);
    }
    return r.json();
  }
  function fail(e) {
    app.replaceChildren(el('p', { class: 'error' }, String(e && e.message || e)));
    if (e && /HTTP 401/.test(e.message)) {
      app.append(el('p', { class: 'note' },
        'Not logged in: open the URL with ?token= that cht printed (cht serve prints it at start).'));
    }
  }
  function setTitle(text, badge) {
    document.title = text ? `${text} · cht` : 'cht';
    document.getElementById('title').textContent = text || '';
    const b = document.getElementById('badge');
    if (badge) { b.textContent = badge.text; b.className = 'badge' + (badge.off ? ' off' : ''); b.hidden = false; }
    else b.hidden = true;
  }

  // ---------- the sessions page ----------
  async function sessionsPage() {
    setTitle('sessions');
    const render = (sessions) => {
      if (!sessions.length) {
        app.replaceChildren(el('p', { class: 'note' }, 'No sessions yet: `cht record` makes one.'));
        return;
      }
      const head = el('tr', {},
        el('th', {}, 'Session'), el('th', { class: 'wide' }, 'Date'), el('th', { class: 'num' }, 'Length'),
        el('th', { class: 'num' }, 'Pictures'), el('th', { class: 'num wide' }, 'Chunks'),
        el('th', { class: 'num wide' }, 'Segments'), el('th', { class: 'num' }, 'Size'), el('th', {}, ''));
      const rows = sessions.map((s) => el('tr', { dataset: { session: s.id } },
        el('td', {}, el('a', { href: `/view/${encodeURIComponent(s.id)}` }, s.id)),
        el('td', { class: 'wide' }, when(s.started_at)),
        el('td', { class: 'num' }, clock(s.duration)),
        el('td', { class: 'num' }, String(s.frames)),
        el('td', { class: 'num wide' }, String(s.audio_chunks)),
        el('td', { class: 'num wide' }, String(s.segments.length)),
        el('td', { class: 'num' }, bytes(s.bytes)),
        el('td', { class: 'rec' }, s.live ? '● recording now · live' : s.recording ? '● recording now' : '')));
      app.replaceChildren(el('table', { class: 'sessions' }, el('thead', {}, head), el('tbody', {}, rows)));
    };
    render(await getJSON('/sessions'));
    // Lengths grow and recordings end: keep the list current.
    setInterval(() => getJSON('/sessions').then(render).catch(() => {}), 5000);
  }

  // ---------- playing the recorded segments ----------
  // One <video>; `src` is switched to the next segment when one ends.
  class Recorded {
    constructor(video, segments, srcOf) {
      this.video = video;
      this.segments = segments;
      this.srcOf = srcOf;
      this.index = -1;
      video.addEventListener('ended', () => {
        if (this.index >= 0 && this.index + 1 < this.segments.length) {
          this.load(this.index + 1, this.segments[this.index + 1].start, true);
        }
      });
    }
    segmentAt(t) {
      const segs = this.segments;
      for (let i = 0; i < segs.length; i++) {
        const end = segs[i].start + (segs[i].duration || Infinity);
        if (t < end - 1e-3 || i === segs.length - 1) return i;
      }
      return 0;
    }
    sessionTime() {
      const seg = this.segments[this.index];
      return seg ? seg.start + this.video.currentTime - (seg.media_start || 0) : 0;
    }
    seek(t, play) {
      if (!this.segments.length) return;
      const i = this.segmentAt(t);
      if (i !== this.index) return this.load(i, t, play);
      const seg = this.segments[i];
      this.video.currentTime = Math.max(0, (seg.media_start || 0) + t - seg.start);
      if (play) this.video.play().catch(() => {});
    }
    load(i, t, play) {
      this.index = i;
      const seg = this.segments[i];
      const v = this.video;
      v.src = this.srcOf(seg);
      v.addEventListener('loadedmetadata', () => {
        const at = (seg.media_start || 0) + Math.max(0, t - seg.start);
        if (at > 0.01) v.currentTime = at;
        if (play) v.play().catch(() => {});
      }, { once: true });
      v.load();
    }
  }

  // ---------- the live view: MSE fed with the growing segment ----------
  // Top-level MP4 boxes out of a byte buffer: only complete ones are taken.
  function takeBoxes(buf) {
    const boxes = [];
    let at = 0;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    while (buf.length - at >= 8) {
      let size = view.getUint32(at);
      const type = String.fromCharCode(buf[at + 4], buf[at + 5], buf[at + 6], buf[at + 7]);
      if (size === 1) {
        if (buf.length - at < 16) break;
        size = view.getUint32(at + 8) * 2 ** 32 + view.getUint32(at + 12);
      }
      if (size < 8 || at + size > buf.length) break;
      boxes.push({ type, bytes: buf.subarray(at, at + size) });
      at += size;
    }
    return { boxes, rest: buf.slice(at) };
  }
  // The MSE type of an init segment: avc1.PPCCLL from avcC, AAC-LC audio.
  function mimeOf(init) {
    const find = (name) => {
      const n = [...name].map((c) => c.charCodeAt(0));
      for (let i = 0; i + 4 <= init.length; i++) {
        if (init[i] === n[0] && init[i + 1] === n[1] && init[i + 2] === n[2] && init[i + 3] === n[3]) return i;
      }
      return -1;
    };
    const codecs = [];
    const avcc = find('avcC');
    if (avcc >= 0) {
      const hex = (b) => b.toString(16).padStart(2, '0');
      codecs.push('avc1.' + hex(init[avcc + 5]) + hex(init[avcc + 6]) + hex(init[avcc + 7]));
    }
    if (find('mp4a') >= 0) codecs.push('mp4a.40.2');
    return `video/mp4; codecs="${codecs.join(', ')}"`;
  }

  class LiveFeed {
    constructor(video, url, onError) {
      this.video = video;
      this.url = url;
      this.onError = onError;
      this.offset = 0;
      this.pending = new Uint8Array(0);
      this.queue = [];
      this.stopped = false;
      this.following = true;
      this.buffer = null;
      this.media = new MediaSource();
      this.objectUrl = URL.createObjectURL(this.media);
      video.src = this.objectUrl;
      this.media.addEventListener('sourceopen', () => this.pump(), { once: true });
    }
    stop() {
      this.stopped = true;
      URL.revokeObjectURL(this.objectUrl);
    }
    // How far the picture shown is behind what has been received.
    behind() {
      const b = this.video.buffered;
      return b.length ? b.end(b.length - 1) - this.video.currentTime : 0;
    }
    async pump() {
      while (!this.stopped) {
        let got = 0;
        try {
          const r = await fetch(this.url, {
            headers: { Range: `bytes=${this.offset}-` }, credentials: 'same-origin', cache: 'no-store',
          });
          if (r.status === 206 || r.status === 200) {
            const chunk = new Uint8Array(await r.arrayBuffer());
            got = chunk.length;
            this.offset += chunk.length;
            this.feed(chunk);
          } else if (r.status !== 416) {
            throw new Error(`${this.url}: HTTP ${r.status}`);
          }
        } catch (e) {
          if (this.onError) this.onError(e);
        }
        this.keepUp();
        if (!got) await new Promise((ok) => setTimeout(ok, 100));
      }
    }
    feed(chunk) {
      const all = new Uint8Array(this.pending.length + chunk.length);
      all.set(this.pending);
      all.set(chunk, this.pending.length);
      const { boxes, rest } = takeBoxes(all);
      this.pending = rest;
      for (const box of boxes) {
        if (!this.buffer) {
          if (box.type === 'ftyp' || box.type === 'moov') {
            this.init = this.init ? concat(this.init, box.bytes) : box.bytes;
          }
          if (box.type === 'moov') {
            this.buffer = this.media.addSourceBuffer(mimeOf(this.init));
            this.buffer.mode = 'segments';
            this.buffer.addEventListener('updateend', () => this.drain());
            this.queue.push(this.init);
          }
          continue;
        }
        this.queue.push(box.bytes);
      }
      this.drain();
    }
    drain() {
      if (!this.buffer || this.buffer.updating || !this.queue.length) return;
      // Memory stays flat: what is a minute behind goes.
      const b = this.buffer.buffered;
      if (b.length && this.video.currentTime - b.start(0) > 90) {
        this.buffer.remove(b.start(0), this.video.currentTime - 60);
        return;
      }
      const parts = this.queue.splice(0, this.queue.length);
      this.buffer.appendBuffer(parts.length === 1 ? parts[0] : parts.reduce(concat));
    }
    // Stay near the live edge: about 0.3 s behind what has arrived. A
    // little behind, play 15% faster to catch up; far behind (the tab was
    // hidden, the network stalled), jump.
    keepUp() {
      const v = this.video;
      if (!v.buffered.length) return;
      if (!this.started) return this.start();
      if (!this.following || v.paused) {
        v.playbackRate = 1;
        return;
      }
      const behind = this.behind();
      if (behind > 1.0) {
        const b = v.buffered;
        v.currentTime = b.end(b.length - 1) - 0.3;
        v.playbackRate = 1;
      } else {
        v.playbackRate = behind > 0.6 ? 1.15 : 1;
      }
    }
    start() {
      const b = this.video.buffered;
      if (!b.length) return;
      this.started = true;
      this.video.currentTime = Math.max(b.start(b.length - 1), b.end(b.length - 1) - 0.3);
      this.video.play().catch(() => {});
    }
  }
  function concat(a, b) {
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  }

  // ---------- the session page ----------
  function sessionPage(session, timeline, opts) {
    const live = opts.live && 'MediaSource' in window;
    const pictures = [];
    const lines = [];
    const picturesById = new Map();
    const linesById = new Map();
    let segments = session.segments.slice();

    setTitle(`${session.id} · ${when(session.started_at)} · ${clock(session.duration)}`,
      opts.live ? { text: '● LIVE' } : session.recording ? { text: 'recording now', off: true } : null);

    const video = el('video', { id: 'video', controls: true, playsinline: true, preload: 'metadata' });
    if (live) video.muted = true; // browsers play muted video without a click
    const position = el('span', { id: 'position' }, '00:00.0');
    const golive = el('button', { class: 'golive', hidden: true, onclick: () => goLive() }, '● Back to live');
    const strip = el('div', { id: 'strip', class: 'strip', role: 'list' });
    const transcript = el('aside', { id: 'transcript', class: 'transcript' }, el('h2', {}, 'Transcript'));
    const controls = el('div', { class: 'controls' },
      position, golive,
      el('span', { class: 'legend' }, el('i', { class: 'event' }), 'new screen', el('i', { class: 'update' }), 'update',
        el('i', { class: 'manual' }), 'capture'),
      el('span', { class: 'keys' }, 'space play/pause · ←/→ 5 s · ↑/↓ or p/n previous/next picture'));
    app.replaceChildren(el('div', { class: 'session' },
      el('section', { class: 'player' }, video, controls, strip), transcript));

    const recorded = new Recorded(video, segments, opts.srcOf);
    let feed = null; // the live feed while following the recording
    let liveSegment = null;

    function sessionTime() {
      if (feed && liveSegment) {
        return liveSegment.start + video.currentTime - (liveSegment.media_start || 0);
      }
      return recorded.sessionTime();
    }

    function addPicture(p, fresh) {
      if (picturesById.has(p.id)) return;
      const t = p.session_picture_time ?? p.session_time ?? 0;
      const kind = p.kind || 'event';
      const score = typeof p.score === 'number' ? p.score.toFixed(3) : '—';
      const tip = `${p.id} · ${kind}${p.cause ? ' (' + p.cause.replace(/_/g, ' ') + ')' : ''} · score ${score}` +
        ` · ${clock(t)}${p.sent_to_agent ? ' · sent to the agent' : ''} · double-click: the whole picture`;
      const node = el('button', {
        class: `pic ${kind}${fresh ? ' new' : ''}`, role: 'listitem', title: tip,
        dataset: { id: p.id, time: t, kind, score },
        onclick: () => seek(t, p.segment),
        ondblclick: () => window.open(opts.pictureOf(p), '_blank', 'noopener'),
      }, el('img', { src: opts.thumbOf(p), alt: tip, loading: 'lazy' }),
      el('span', {}, `${p.id} ${clock(t)}`), el('b', { class: 'score' }, score));
      const entry = { id: p.id, t, node };
      picturesById.set(p.id, entry);
      pictures.push(entry);
      pictures.sort((a, b) => a.t - b.t);
      const after = pictures[pictures.indexOf(entry) + 1];
      strip.insertBefore(node, after ? after.node : null);
      if (fresh) node.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
    function addLine(l) {
      if (linesById.has(l.id) || !l.text) return;
      const t = l.session_time ?? 0;
      const node = el('button', { class: 'line', dataset: { time: t, id: l.id }, onclick: () => seek(t, l.segment) },
        el('time', {}, clock(t)), l.text);
      const entry = { id: l.id, t, end: t + (l.duration || 0), node };
      linesById.set(l.id, entry);
      lines.push(entry);
      lines.sort((a, b) => a.t - b.t);
      const after = lines[lines.indexOf(entry) + 1];
      transcript.insertBefore(node, after ? after.node : null);
    }
    function addTimeline(entries, fresh) {
      for (const e of entries) {
        if (e.type === 'picture') addPicture(e, fresh);
        else if (e.type === 'transcript') addLine(e);
      }
    }
    addTimeline(timeline, false);

    // Playback position → the current picture and transcript line.
    let currentPic = null, currentLine = null;
    function follow() {
      const t = sessionTime();
      position.textContent = `${clock(t)} / ${clock(Math.max(t, totalDuration()))}`;
      let pic = null;
      for (const p of pictures) { if (p.t <= t + 0.05) pic = p; else break; }
      if (pic !== currentPic) {
        if (currentPic) currentPic.node.classList.remove('current');
        if (pic) {
          pic.node.classList.add('current');
          pic.node.scrollIntoView({ block: 'nearest', inline: 'nearest' });
        }
        currentPic = pic;
      }
      let line = null;
      for (const l of lines) { if (l.t <= t + 0.05) line = l; else break; }
      if (line && t > line.end + 0.5) line = null;
      if (line !== currentLine) {
        if (currentLine) currentLine.node.classList.remove('current');
        if (line) {
          line.node.classList.add('current');
          line.node.scrollIntoView({ block: 'nearest' });
        }
        currentLine = line;
      }
    }
    function totalDuration() {
      const last = segments[segments.length - 1];
      return last ? last.start + (last.duration || 0) : 0;
    }
    video.addEventListener('timeupdate', follow);
    video.addEventListener('seeked', follow);

    function seek(t, segment) {
      if (feed && liveSegment && (segment === undefined || segment === liveSegment.segment)) {
        const at = (liveSegment.media_start || 0) + t - liveSegment.start;
        const b = video.buffered;
        if (b.length && at >= b.start(0) && at <= b.end(b.length - 1)) {
          video.currentTime = at;
          feed.following = false;
          golive.hidden = false;
          return;
        }
      }
      const playing = !video.paused;
      leaveLive();
      recorded.seek(t, playing);
    }
    function stepPicture(dir) {
      if (!pictures.length) return;
      const t = sessionTime();
      const target = dir > 0 ? pictures.find((p) => p.t > t + 0.05)
        : [...pictures].reverse().find((p) => p.t < t - 0.3);
      if (target) target.node.click();
    }
    document.addEventListener('keydown', (e) => {
      if (e.altKey || e.ctrlKey || e.metaKey || /INPUT|TEXTAREA|SELECT/.test(e.target.tagName)) return;
      const key = e.key;
      // The <video>'s own controls, when focused, already play/pause and
      // seek: do not do it twice.
      const native = e.target === video && (key === ' ' || key === 'ArrowLeft' || key === 'ArrowRight');
      if (native) return;
      if (key === ' ' || key === 'k') {
        if (video.paused) video.play().catch(() => {}); else video.pause();
      } else if (key === 'ArrowLeft' || key === 'ArrowRight') {
        const t = sessionTime() + (key === 'ArrowLeft' ? -5 : 5);
        seek(Math.max(0, t));
      } else if (key === 'ArrowDown' || key === 'n' || key === 'PageDown') {
        stepPicture(1);
      } else if (key === 'ArrowUp' || key === 'p' || key === 'PageUp') {
        stepPicture(-1);
      } else {
        return;
      }
      // Space on a focused picture or line would click it again.
      e.preventDefault();
    });

    // ---------- live ----------
    function goLive() {
      if (!live || !liveSegment) return;
      if (feed) feed.stop();
      recorded.index = -1; // the <video> no longer shows a recorded segment
      feed = new LiveFeed(video, opts.srcOf(liveSegment), (e) => console.warn('live view:', e.message));
      golive.hidden = true;
      setTitle(`${session.id} · live`, { text: '● LIVE' });
    }
    function leaveLive() {
      if (!feed) return;
      feed.stop();
      feed = null;
      video.playbackRate = 1;
      golive.hidden = !live;
      recorded.index = -1; // the <video> no longer shows a recorded segment
    }
    async function refresh() {
      const [info, entries] = await Promise.all([
        getJSON(`/sessions/${session.id}`), getJSON(`/sessions/${session.id}/timeline`),
      ]);
      segments.splice(0, segments.length, ...info.segments);
      if (liveSegment) {
        const now = info.segments.find((s) => s.segment === liveSegment.segment);
        if (now) Object.assign(liveSegment, now);
      }
      addTimeline(entries, true);
      return info;
    }
    if (live) {
      const events = new EventSource('/events');
      events.addEventListener('frame', (m) => addPicture(JSON.parse(m.data), true));
      events.addEventListener('transcript', () => refresh().catch(() => {}));
      events.addEventListener('segment_started', (m) => {
        const s = JSON.parse(m.data);
        const following = !!feed || !liveSegment;
        liveSegment = { segment: s.segment, start: s.start, media_start: null, duration: null,
          path: `stream/recording_${String(s.segment).padStart(3, '0')}.mp4` };
        refresh().catch(() => {});
        if (following) goLive();
      });
      events.addEventListener('segment_finished', () => refresh().catch(() => {}));
      events.addEventListener('events_lost', () => refresh().catch(() => {}));
      // A media_start known only once the first fragment is on disk.
      setInterval(() => {
        if (liveSegment && liveSegment.media_start == null) refresh().catch(() => {});
      }, 1000);
      const last = segments[segments.length - 1];
      if (last && !last.finished) {
        liveSegment = Object.assign({}, last);
        goLive();
      } else if (segments.length) {
        recorded.load(0, 0, false);
      }
      window.chtLive = {
        // Seconds between the sender's "now" (the segment's wall-clock start
        // plus the media time received since) and the picture shown.
        delay() {
          if (!feed || !liveSegment || !liveSegment.started_at) return null;
          const shown = video.currentTime - (liveSegment.media_start || 0);
          return Date.now() / 1000 - liveSegment.started_at - shown;
        },
        // The segment time of the picture shown.
        shown() {
          return feed && liveSegment ? video.currentTime - (liveSegment.media_start || 0) : null;
        },
        following: () => !!feed,
        segment: () => liveSegment && liveSegment.segment,
      };
    } else if (segments.length) {
      recorded.load(0, 0, false);
    }
    window.chtPage = { sessionTime, pictures: () => pictures.map((p) => ({ id: p.id, t: p.t })) };
  }

  // ---------- entry ----------
  async function main() {
    if (DATA) {
      const srcOf = (seg) => 'video/' + seg.path.split('/').pop();
      sessionPage(DATA.session, DATA.timeline, {
        live: false, srcOf,
        thumbOf: (p) => 'thumbs/' + p.id + '.jpg',
        pictureOf: (p) => 'pictures/' + p.id + '.jpg',
      });
      return;
    }
    const path = location.pathname;
    if (path === '/' || path === '/index.html') return sessionsPage();
    const m = path.match(/^\/view\/([A-Za-z0-9_-]{1,64})\/?$/);
    if (!m) throw new Error(`no page ${path}`);
    const id = m[1];
    const [session, timeline] = await Promise.all([
      getJSON(`/sessions/${id}`), getJSON(`/sessions/${id}/timeline`),
    ]);
    sessionPage(session, timeline, {
      live: session.live,
      srcOf: (seg) => `/sessions/${id}/stream/${seg.path.split('/').pop()}`,
      thumbOf: (p) => `/sessions/${id}/frames/${p.id}.jpg?width=240`,
      pictureOf: (p) => `/sessions/${id}/frames/${p.id}.jpg`,
    });
  }
  main().catch(fail);
})();
