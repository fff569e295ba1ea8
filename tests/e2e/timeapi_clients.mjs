// Client code written for timeapi.io and time.now, run in node against a
// clocksvc server with nothing changed but the host; prints what each read,
// as one line of JSON.
//
// Usage: node timeapi_clients.mjs URL
// where URL is clocksvc's base URL, ending in "/".
//
// Each function is the repository's own, as published, but for its host
// (https://timeapi.io, https://time.now), which is the server given here.

const base = process.argv[2].replace(/\/$/, "");

// Sebs5384/count-von-count, src/api/serverTime.js.
const URL = `${base}/api/Time/current`;

async function getServerTime(timeZone) {
  const timeZoneURL = `${URL}/zone?timeZone=${timeZone}`

  return await fetch(timeZoneURL)
    .then((response) => response.json())
    .catch((error) => {
      throw new Error(error);
    });
};

// NicoToff/web-workers-demo, public/workers/fetch/helpers.js.
async function getTimeData(timeZone = "Europe/Amsterdam") {
  const tz = encodeURIComponent(timeZone);
  return fetch(`${base}/api/timezone/zone?timeZone=${tz}`)
    .then((r) => r.json())
    .catch(console.error);
}

// A search box's list of zones (public code): the zones whose name holds
// what was typed.
async function search(valorInput) {
  const url = `${base}/api/timezone/availabletimezones`;
  return fetch(url)
    .then((res) => res.json())
    .then((timezones) =>
      timezones.filter((zone) => zone.toLowerCase().includes(valorInput)),
    );
}

// The sample request of timeapi.io's Swagger document, posted as the
// clients above fetch.
async function convert() {
  const response = await fetch(`${base}/api/Conversion/ConvertTimeZone`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      fromTimeZone: "Europe/Amsterdam",
      dateTime: "2021-03-14 17:45:00",
      toTimeZone: "America/Los_Angeles",
      dstAmbiguity: "",
    }),
  });
  return response.json();
}

// chrisyau83/world-time-api, README.md (time.now's documentation).
async function timeNow() {
  return fetch(`${base}/developer/api/timezone/Asia/Tokyo`)
    .then(response => response.json());
}

const report = {
  serverTime: await getServerTime("Europe/Amsterdam"),
  timeData: await getTimeData("America/New_York"),
  search: await search("amsterdam"),
  convert: await convert(),
  timeNow: await timeNow(),
};
console.log(JSON.stringify(report));
