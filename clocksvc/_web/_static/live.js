// clocksvc's live page: shows the server's time, ticking on the server's
// second boundaries, and how far this browser's clock is off.
//
// The offset comes from NTP-style exchanges with /now?t1=: t1 is when the
// request left, t2 and t3 when the server received it and answered, t4 when
// the answer arrived. offset = ((t2 - t1) + (t3 - t4)) / 2 is exact when the
// way there and the way back take equally long, and never further off than
// half the round trip, rtt = (t4 - t1) - (t3 - t2): so of several samples the
// one with the lowest round trip is kept. The server's own clock may be off
// too, by up to the maximum error it sends with each answer
// (clock_max_error_ms): the uncertainty shown is rtt / 2 plus that bound.
"use strict";

(() => {
  const SAMPLES = 8;
  const SAMPLE_GAP_MS = 100;
  const RESYNC_MS = 60_000;

  const timeElement = document.getElementById("server-time");
  const dateElement = document.getElementById("server-date");
  const zoneElement = document.getElementById("zone");
  const offsetElement = document.getElementById("offset");
  const detailElement = document.getElementById("detail");
  const serverClockElement = document.getElementById("server-clock");

  // Until the first exchange, guess from the time the page was rendered.
  let offset = Number(timeElement.dataset.serverMs) - Date.now();

  const timeFormat = new Intl.DateTimeFormat(undefined, {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full" });
  zoneElement.textContent = Intl.DateTimeFormat().resolvedOptions().timeZone;

  async function sample() {
    const t1 = Date.now();
    const response = await fetch("/now?t1=" + t1, { cache: "no-store" });
    if (!response.ok) {
      throw new Error("HTTP " + response.status);
    }
    const answer = await response.json();
    const t4 = Date.now();
    return {
      offset: (answer.t2 - t1 + (answer.t3 - t4)) / 2,
      rtt: t4 - t1 - (answer.t3 - answer.t2),
      // null when the server cannot tell.
      synchronized: answer.clock_synchronized,
      maxError: answer.clock_max_error_ms,
    };
  }

  // As the page says it when rendered (serverClockText in _live.py).
  function describeServer(best) {
    if (best.synchronized === null || best.synchronized === undefined) {
      return "The server cannot tell how good its clock is.";
    }
    const bound = Math.max(1, Math.ceil(best.maxError || 0));
    if (best.synchronized) {
      return `The server's clock is synchronized, to within ±${bound} ms.`;
    }
    return `The server's clock is not synchronized: it may be off by up to ${bound} ms.`;
  }

  // Half the round trip, plus the server clock's own bound: whole ms, at
  // least 1.
  function uncertaintyOf(best) {
    return Math.max(1, Math.ceil(best.rtt / 2 + (best.maxError || 0)));
  }

  function describe(best) {
    const ms = Math.round(best.offset);
    const uncertainty = uncertaintyOf(best);
    if (Math.abs(ms) <= uncertainty) {
      return `Your clock is right, to within ±${uncertainty} ms.`;
    }
    const way = ms > 0 ? "behind" : "ahead of";
    return `Your clock is ${Math.abs(ms)} ms ${way} the server (±${uncertainty} ms).`;
  }

  async function sync() {
    let best = null;
    for (let i = 0; i < SAMPLES; i += 1) {
      try {
        const next = await sample();
        if (best === null || next.rtt < best.rtt) {
          best = next;
        }
      } catch (error) {
        // A lost sample is just one fewer to choose from.
      }
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_GAP_MS));
    }
    if (best === null) {
      offsetElement.textContent = "The server cannot be reached; trying again.";
    } else {
      offset = best.offset;
      offsetElement.dataset.offsetMs = best.offset.toFixed(1);
      offsetElement.dataset.rttMs = best.rtt.toFixed(1);
      offsetElement.dataset.uncertaintyMs = String(uncertaintyOf(best));
      offsetElement.textContent = describe(best);
      serverClockElement.dataset.synchronized = String(best.synchronized ?? "unknown");
      serverClockElement.dataset.maxErrorMs =
        best.maxError === null || best.maxError === undefined ? "" : String(best.maxError);
      serverClockElement.textContent = describeServer(best);
      detailElement.textContent =
        `Round trip ${best.rtt.toFixed(1)} ms: the best of ${SAMPLES} ` +
        "exchanges, measured again every minute.";
    }
    setTimeout(sync, RESYNC_MS);
  }

  function tick() {
    const now = Date.now() + offset;
    const shown = new Date(now);
    timeElement.textContent = timeFormat.format(shown);
    timeElement.dateTime = shown.toISOString();
    dateElement.textContent = dateFormat.format(shown);
    // Wake just after the server's next second begins, not the browser's.
    setTimeout(tick, 1000 - (now % 1000) + 2);
  }

  offsetElement.textContent = "Measuring your clock…";
  tick();
  sync();
})();
