// Reads the unit's latency strip (docs/live.md#latency-strip, firmware/capture/time_strip.hpp) from
// every frame a <video> presents, for bench/live.sh. Injected by Playwright into whichever page plays
// the stream (the hub's live page, or the baseline page), so no page carries measuring code itself.
//   window.classcamLatency.start(video)  begins; .samples holds {at, latency_ms, frame} per frame read
//   .stats() gives count, median, p95, frames presented, frames without a strip, longest gap and
//   freezes (gaps over 250 ms between presented frames)
(() => {
  const CELLS = 60;
  const cellOf = (width, height) => {
    let cell = Math.floor(width / 64) & ~1;
    if (cell < 4) cell = 4;
    const rows = cell < 8 ? 8 : cell;
    return cell * CELLS > width || rows > height ? 0 : cell;
  };
  const bitsOf = (ms) => {
    const b = new Array(CELLS).fill(false);
    b[0] = true;
    b[2] = true;
    let sum = 0;
    let v = BigInt(ms);
    for (let i = 0; i < 48; i++) b[4 + i] = ((v >> BigInt(47 - i)) & 1n) === 1n;
    for (let byte = 0; byte < 6; byte++) sum += Number((v >> BigInt(8 * byte)) & 0xffn);
    const check = (sum & 0xff) ^ 0xa5;
    for (let i = 0; i < 8; i++) b[52 + i] = ((check >> (7 - i)) & 1) === 1;
    return b;
  };
  const read = (pixels, width, cell) => {
    // pixels: RGBA of the strip's middle row; a 1 is brighter than the midpoint (green channel ~ luma).
    const b = [];
    for (let c = 0; c < CELLS; c++) b.push(pixels[4 * (c * cell + (cell >> 1)) + 1] > 125);
    if (!b[0] || b[1] || !b[2] || b[3]) return null;
    let ms = 0n;
    for (let i = 0; i < 48; i++) ms = (ms << 1n) | (b[4 + i] ? 1n : 0n);
    const want = bitsOf(ms);
    for (let i = 0; i < CELLS; i++) if (want[i] !== b[i]) return null;
    return Number(ms);
  };
  const state = { samples: [], presented: 0, unreadable: 0, lastAt: 0, longestGap: 0, freezes: 0 };
  window.classcamLatency = {
    samples: state.samples,
    start(video) {
      const canvas = document.createElement("canvas");
      const ctx = canvas.getContext("2d", { willReadFrequently: true });
      const onFrame = (_now, meta) => {
        const at = Date.now();
        state.presented++;
        if (state.lastAt) {
          state.longestGap = Math.max(state.longestGap, at - state.lastAt);
          if (at - state.lastAt > 250) state.freezes++;  // a picture held for more than ~8 frames
        }
        state.lastAt = at;
        const w = meta.width || video.videoWidth;
        const h = meta.height || video.videoHeight;
        const cell = cellOf(w, h);
        if (cell) {
          const rows = cell < 8 ? 8 : cell;
          canvas.width = CELLS * cell;
          canvas.height = 1;
          // Only the strip's middle row, at the video's own scale.
          ctx.drawImage(video, 0, rows >> 1, CELLS * cell, 1, 0, 0, CELLS * cell, 1);
          const t = read(ctx.getImageData(0, 0, CELLS * cell, 1).data, w, cell);
          if (t === null) state.unreadable++;
          else state.samples.push({ at, latency_ms: at - t, frame: meta.presentedFrames });
        }
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    },
    stats() {
      const l = state.samples.map((s) => s.latency_ms).sort((a, b) => a - b);
      const q = (p) => (l.length ? l[Math.min(l.length - 1, Math.floor(p * l.length))] : null);
      return { count: l.length, median_ms: q(0.5), p95_ms: q(0.95), presented: state.presented,
        unreadable: state.unreadable, longest_gap_ms: state.longestGap, freezes: state.freezes };
    },
  };
})();
