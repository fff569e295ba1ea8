-- A mix of clocksvc's endpoints, in turn, for the soak test: every answer
-- is a success, so wrk's "Non-2xx or 3xx responses" counts errors.
local paths = {
  "/",
  "/now",
  "/now.txt?tz=Europe/Berlin",
  "/api/timezone/America/Argentina/Salta",
  "/?iso&ms",
  "/now?t1=1700000000000",
  "/.well-known/time",
  "/api/timezone/Europe",
  "/live",
}
local counter = 0

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
