// clocksvc's live page: shows the server's time, ticking on the server's
// second boundaries, in the server's time zone and in the browser's; and how
// far this browser's clock is from the server's.
//
// The offset comes from NTP-style exchanges with /now?t1=: t1 is when the
// request left, t2 and t3 when the server received it and answered, t4 when
// the answer arrived. offset = ((t2 - t1) + (t3 - t4)) / 2 is exact when the
// way there and the way back take equally long, and never further off than
// half the round trip, rtt = (t4 - t1) - (t3 - t2): so of several samples the
// one with the lowest round trip is kept, and the offset is shown against
// this server, within rtt / 2. How far the server's own clock may be from
// true time (clock_max_error_ms, sent with each answer) is said apart: an
// unsynchronized server may be 16 s off, which says nothing of this
// browser's clock.
//
// Each answer is also the time document of the server's zone: its name
// (timezone), abbreviation, and UTC offset (raw_offset + dst_offset), which
// the page shows, as /now gives them.
"use strict";

(() => {
  const SAMPLES = 8;
  const SAMPLE_GAP_MS = 100;
  const RESYNC_MS = 60_000;

  const timeElement = document.getElementById("server-time");
  const dateElement = document.getElementById("server-date");
  const zoneElement = document.getElementById("zone");
  const visitorElement = document.getElementById("visitor");
  const visitorZoneElement = document.getElementById("visitor-zone");
  const visitorTimeElement = document.getElementById("visitor-time");
  const offsetElement = document.getElementById("offset");
  const detailElement = document.getElementById("detail");
  const serverClockElement = document.getElementById("server-clock");

  // Until the first exchange, guess from the time the page was rendered.
  let offset = Number(timeElement.dataset.serverMs) - Date.now();

  const TIME = { hour: "2-digit", minute: "2-digit", second: "2-digit" };
  const DATE = { dateStyle: "full" };

  // The server's zone, as the page was rendered with it; then as /now's
  // answers name it.
  let zone = {
    name: zoneElement.dataset.zone,
    abbreviation: zoneElement.dataset.abbreviation,
    offsetMs: Number(zoneElement.dataset.utcOffsetS) * 1000,
  };
  let formats = formatsFor(zone.name);

  // Formats for the time and date in the zone called name. A zone that this
  // browser's Intl does not know (one newer than its ICU), or a server's
  // local time without a name, is shown at the zone's UTC offset instead:
  // the formats are then UTC's, and tick() adds the offset.
  function formatsFor(name) {
    try {
      if (name) {
        return {
          time: new Intl.DateTimeFormat(undefined, { ...TIME, timeZone: name }),
          date: new Intl.DateTimeFormat(undefined, { ...DATE, timeZone: name }),
          fixed: false,
        };
      }
    } catch (error) {
      // RangeError: an unknown zone; fall through to its offset.
    }
    return {
      time: new Intl.DateTimeFormat(undefined, { ...TIME, timeZone: "UTC" }),
      date: new Intl.DateTimeFormat(undefined, { ...DATE, timeZone: "UTC" }),
      fixed: true,
    };
  }

  // The browser's own zone, shown beside the server's.
  const visitorTime = new Intl.DateTimeFormat(undefined, TIME);
  visitorZoneElement.textContent = Intl.DateTimeFormat().resolvedOptions().timeZone;
  visitorElement.hidden = false;

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
      zone: {
        name: answer.timezone,
        abbreviation: answer.abbreviation,
        offsetMs: (answer.raw_offset + answer.dst_offset) * 1000,
      },
    };
  }

  // A length of time, as _live.py's duration says it with Math.ceil: whole
  // ms below a second, seconds to a tenth below a minute, and whole seconds
  // in days, hours and minutes above; rounded with round (Math.ceil for a
  // bound, Math.round for a measurement).
  function duration(ms, round) {
    const whole = Math.max(1, round(ms));
    if (whole < 1000) {
      return `${whole} ms`;
    }
    if (ms < 60_000) {
      const tenths = round(ms / 100);
      return `${Math.floor(tenths / 10)}.${tenths % 10} s`;
    }
    let seconds = round(ms / 1000);
    const parts = [];
    for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60]]) {
      if (parts.length > 0 || seconds >= size) {
        parts.push(`${Math.floor(seconds / size)} ${unit}`);
        seconds %= size;
      }
    }
    parts.push(`${seconds} s`);
    return parts.join(" ");
  }

  // As _live.py's zoneLabel.
  function zoneLabel(name, abbreviation) {
    if (!name) {
      return `${abbreviation}, the server's local time`;
    }
    if (abbreviation === name) {
      return `${name}, the server's time zone`;
    }
    return `${name} (${abbreviation}), the server's time zone`;
  }

  // As the page says it when rendered (serverClockText in _live.py).
  function describeServer(best) {
    if (best.synchronized === null || best.synchronized === undefined) {
      return "This server cannot tell how far its clock may be from true time.";
    }
    const bound = duration(best.maxError || 0, Math.ceil);
    if (best.synchronized) {
      return `This server's clock is synchronized: within ±${bound} of true time.`;
    }
    return `This server's clock is not synchronized: it may be up to ${bound} from true time.`;
  }

  // How far the offset may be from the truth: half the round trip, in whole
  // ms, at least 1. The server's own error is no part of it: the offset is
  // against the server's clock, whatever that says.
  function boundOf(best) {
    return Math.max(1, Math.ceil(best.rtt / 2));
  }

  // "Right" only where the offset is within the round trip's bound, and the
  // server's clock is itself known to be right; otherwise the offset, with
  // which way it goes.
  function describe(best) {
    const bound = boundOf(best);
    const within = `±${duration(bound, Math.ceil)}`;
    if (Math.abs(best.offset) <= bound) {
      if (best.synchronized === true) {
        return `Your clock is right: it agrees with this server's to within ${within}.`;
      }
      return `Your clock agrees with this server's to within ${within}.`;
    }
    const way = best.offset > 0 ? "behind" : "ahead of";
    const size = duration(Math.abs(best.offset), Math.round);
    return `Your clock is ${size} ${way} this server (${within}).`;
  }

  function showZone(next) {
    if (next.name !== zone.name) {
      formats = formatsFor(next.name);
    }
    zone = next;
    zoneElement.dataset.zone = zone.name;
    zoneElement.dataset.abbreviation = zone.abbreviation;
    zoneElement.dataset.utcOffsetS = String(zone.offsetMs / 1000);
    zoneElement.textContent = zoneLabel(zone.name, zone.abbreviation);
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
      showZone(best.zone);
      offsetElement.dataset.offsetMs = best.offset.toFixed(1);
      offsetElement.dataset.rttMs = best.rtt.toFixed(1);
      offsetElement.dataset.uncertaintyMs = String(boundOf(best));
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
    // In a zone Intl does not know, UTC's formats at the zone's offset.
    const shown = new Date(formats.fixed ? now + zone.offsetMs : now);
    timeElement.textContent = formats.time.format(shown);
    timeElement.dateTime = new Date(now).toISOString();
    dateElement.textContent = formats.date.format(shown);
    visitorTimeElement.textContent = visitorTime.format(new Date(now));
    visitorTimeElement.dateTime = timeElement.dateTime;
    // Wake just after the server's next second begins, not the browser's.
    setTimeout(tick, 1000 - (now % 1000) + 2);
  }

  offsetElement.textContent = "Measuring your clock…";
  tick();
  sync();
})();
