// Syncs once with the npm timesync client against a clocksvc server, and
// prints what it found as one line of JSON:
//
//   {"offset": ms, "results": [server ms, ...], "errors": ["...", ...]}
//
// Usage: NODE_PATH=<dir>/node_modules node timesync_client.js URL
// where URL is clocksvc's base URL, ending in "/". The node build of the
// library posts with http.request on url.parse(server), so the server URL
// must be absolute.
"use strict";

const timesync = require("timesync");

const TIMEOUT_MS = 20_000;

const ts = timesync.create({
  server: new URL("timesync", process.argv[2]).href,
  // No timer: sync once, on demand, then let node exit.
  interval: null,
  // The library's default repeat of 5 exchanges, closer together than its
  // default second apart, to keep the test short.
  delay: 200,
  timeout: 5000,
});

// sync() resolves even when every exchange failed, leaving the offset at 0;
// so count the answers and the errors as well, or a dead server would pass.
const results = [];
const errors = [];
const receive = ts.receive;
ts.receive = (from, data) => {
  if (data && typeof data === "object") {
    results.push(data.result);
  }
  return receive(from, data);
};
ts.on("error", (error) => errors.push(String(error)));

// An answer other than 200 is reported as an error, and then the exchange
// waiting for it never ends: so give up after a while, saying why.
const giveUp = setTimeout(() => {
  console.error(
    `timesync did not finish within ${TIMEOUT_MS} ms:`,
    JSON.stringify({ results, errors }),
  );
  process.exit(2);
}, TIMEOUT_MS);

ts.sync().then(
  () => {
    clearTimeout(giveUp);
    console.log(JSON.stringify({ offset: ts.offset, results, errors }));
  },
  (error) => {
    clearTimeout(giveUp);
    console.error(String(error));
    process.exit(1);
  },
);
