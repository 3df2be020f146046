// SPDX-License-Identifier: MPL-2.0
// The report page's behaviour: anything with data-time seeks the video there; the playheads
// and the verdict follow the video; the side-by-side players start and end together.
(() => {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const video = document.getElementById('video');
  const duration = parseFloat(document.body.dataset.duration) || 1;
  // Must match svg.rs: the plotted span runs from LEFT to WIDTH - 10 of a 1000-wide viewBox.
  const LEFT = 120, SPAN = 1000 - 120 - 10;

  const seek = (t) => { video.currentTime = Math.max(0, t); };
  document.querySelectorAll('[data-time]').forEach((el) => {
    el.addEventListener('click', () => seek(parseFloat(el.dataset.time)));
    el.addEventListener('keydown', (e) => { if (e.key === 'Enter') seek(parseFloat(el.dataset.time)); });
  });

  // The frame on screen: the last one whose time is not after the video's.
  const frameAt = (t) => {
    let lo = 0, hi = data.frames.length - 1;
    if (hi < 0 || t < data.frames[0][0]) return null;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (data.frames[mid][0] <= t + 1e-3) lo = mid; else hi = mid - 1; }
    return data.frames[lo];
  };
  const verdict = document.getElementById('verdict');
  const show = () => {
    const t = video.currentTime;
    const x = LEFT + Math.min(1, t / duration) * SPAN;
    document.querySelectorAll('.playhead').forEach((l) => { l.setAttribute('x1', x); l.setAttribute('x2', x); });
    const f = frameAt(t);
    verdict.textContent = '';
    if (!f) return;
    const [time, errors, angles, hasPose] = f;
    const head = document.createElement('div');
    if (!hasPose) { head.textContent = 'No pose on this frame'; }
    else if (errors.length === 0) { head.className = 'ok'; head.textContent = 'Good form on this frame'; }
    verdict.appendChild(head);
    errors.forEach((i) => {
      const e = document.createElement('span'); e.className = 'bad'; e.textContent = data.labels[i]; verdict.appendChild(e);
    });
    Object.entries(angles).forEach(([name, deg]) => {
      const a = document.createElement('span'); a.className = 'angle';
      a.textContent = `${name.replace(/_/g, ' ')} ${deg.toFixed(0)}°`; verdict.appendChild(a);
    });
  };
  video.addEventListener('timeupdate', show);
  video.addEventListener('seeked', show);
  show();

  // Stepping through the bad poses.
  const starts = [...data.segments].sort((a, b) => a - b);
  document.getElementById('next-bad').addEventListener('click', () => {
    const t = starts.find((s) => s > video.currentTime + 0.01); if (t !== undefined) seek(t);
  });
  document.getElementById('prev-bad').addEventListener('click', () => {
    const t = [...starts].reverse().find((s) => s < video.currentTime - 0.01); if (t !== undefined) seek(t);
  });

  // Side by side: both clips start together and the exemplar's rate stretches it to the
  // athlete's length, so they end together too.
  document.querySelectorAll('.compare').forEach((c) => {
    const athlete = c.querySelector('video.athlete'), exemplar = c.querySelector('video.exemplar');
    const d = Object.fromEntries(Object.entries(c.dataset).map(([k, v]) => [k, parseFloat(v)]));
    const speed = c.querySelector('.speed');
    const cue = () => { athlete.currentTime = d.athleteStart; exemplar.currentTime = d.exemplarStart; };
    c.querySelector('.play-pair').addEventListener('click', () => {
      const s = parseFloat(speed.value);
      const stretch = (d.exemplarEnd - d.exemplarStart) / Math.max(0.04, d.athleteEnd - d.athleteStart);
      cue();
      athlete.playbackRate = s;
      exemplar.playbackRate = Math.min(4, Math.max(0.0625, s * stretch));
      athlete.play(); exemplar.play();
    });
    athlete.addEventListener('timeupdate', () => {
      if (athlete.currentTime >= d.athleteEnd) { athlete.pause(); exemplar.pause(); }
    });
  });
})();
