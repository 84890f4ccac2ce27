-- wrk script for bench/run.py: traffic shaped like real creator clicks, and a JSON summary.
--
--   wrk -t2 -c64 -d10s -s bench/traffic.lua URL -- MODE SLUGFILE UAFILE [DELAY_MS]
--
-- MODE
--   new      every request a new visitor: a distinct X-Forwarded-For address and an in-app
--            or mobile user agent never sent before (a template from UAFILE with its build
--            numbers, ids and device model replaced per request), a random slug of SLUGFILE.
--   abuser   one client (one address) flooding unique user agents, as `new` builds them.
--   shopper  one ordinary shopper: one address, one user agent, random slugs.
-- DELAY_MS   pause per connection before each request (0 = as fast as possible), to send at
--            a set rate: about connections * 1000 / DELAY_MS requests/s.
--
-- The tracker believes X-Forwarded-For only from TRACKER_TRUSTED_PROXIES (127.0.0.1/32 in
-- the bench). Requests are assembled from pieces cut once in init(), so wrk's own CPU use
-- (it shares the machine with the server) stays small, and equal for every target.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

sent = 0
local mode, delay_ms = "new", 0
local slugs, templates = {}, {}
local head, seq, fixed_ip, shopper_ua = "", 0, "", ""
local langs = { "en-US,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.9", "es-ES,es;q=0.9", "pt-BR,pt;q=0.9,en;q=0.8" }
local referers = { "Referer: https://l.instagram.com/\r\n", "Referer: https://www.tiktok.com/\r\n", "Referer: https://m.facebook.com/\r\n", "" }
local letters = { "A", "B", "F", "G", "M", "N", "S", "T", "U" }

-- Pieces that vary per request, found in a template: digit runs of 3 or more (build numbers,
-- ids, screen sizes), iPhone models, Samsung and Pixel models.
local kinds = {
  { "iPhone%d+,%d+", function() return "iPhone" .. math.random(8, 17) .. "," .. math.random(1, 8) end },
  { "SM%-%u%d+%u?", function() return "SM-" .. letters[math.random(#letters)] .. math.random(100, 999) .. letters[math.random(#letters)] end },
  { "Pixel %d+", function() return "Pixel " .. math.random(3, 9) end },
  { "%d%d%d+", false },
}

local function cut(line)
  local parts, pos = {}, 1
  while true do
    local best_s, best_e, best_gen
    for _, k in ipairs(kinds) do
      local s, e = string.find(line, k[1], pos)
      if s and (not best_s or s < best_s) then
        best_s, best_e = s, e
        best_gen = k[2] or (e - s + 1)  -- a number: the digit run's length
      end
    end
    if not best_s then break end
    table.insert(parts, string.sub(line, pos, best_s - 1))
    table.insert(parts, best_gen)
    pos = best_e + 1
  end
  table.insert(parts, string.sub(line, pos))
  return parts
end

local function digits(n)
  local out = tostring(math.random(1, 9))
  for _ = 2, n do out = out .. math.random(0, 9) end
  return out
end

-- A user agent never sent before: the template's varying pieces regenerated, and the last
-- digit run carries this thread's sequence number (unique across threads and runs).
local function agent()
  local t = templates[math.random(#templates)]
  local out, last = {}, 0
  for i, p in ipairs(t) do
    if type(p) == "number" then last = i end
  end
  for i, p in ipairs(t) do
    if type(p) == "string" then
      out[i] = p
    elseif type(p) == "function" then
      out[i] = p()
    elseif i == last then
      out[i] = tostring(seq) .. digits(math.max(p - 3, 3))
    else
      out[i] = digits(p)
    end
  end
  if last == 0 then out[#out + 1] = " " .. seq end
  return table.concat(out)
end

local ipbase, count = 0, 0
local function address(n)
  -- a distinct public-looking IPv4 address per n: consecutive n are 40,503 apart over 32
  -- bits (a new /24 each time for ~100,000 requests); all arithmetic stays below 2^53
  local x = (ipbase + n * 40503) % 4294967296
  local a = 11 + (math.floor(x / 16777216) % 180)
  return a .. "." .. (math.floor(x / 65536) % 256) .. "." .. (math.floor(x / 256) % 256) .. "." .. (x % 256)
end

function init(args)
  mode = args[1] or "new"
  local f = io.open("/dev/urandom", "rb")
  local b = f:read(4)
  f:close()
  local salt = b:byte(1) * 16777216 + b:byte(2) * 65536 + b:byte(3) * 256 + b:byte(4)
  math.randomseed(salt + (id or 0) * 7919)
  -- unique across the threads of this run and (very nearly) across runs
  seq = (salt % 100000) * 1000000 + (id or 0) * 100000000000
  for line in io.lines(args[2]) do
    if line ~= "" then table.insert(slugs, line) end
  end
  for line in io.lines(args[3]) do
    if line ~= "" then table.insert(templates, cut(line)) end
  end
  delay_ms = tonumber(args[4] or "0") or 0
  local host = wrk.headers["Host"] or (wrk.host .. ":" .. wrk.port)
  head = " HTTP/1.1\r\nHost: " .. host .. "\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
  ipbase = salt
  fixed_ip = address(id or 0)
  shopper_ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 334.0.4.32.98 (iPhone14,5; iOS 17_5; en_US; en; scale=3.00; 1170x2532; 611278389)"
end

function delay()
  return delay_ms
end

function request()
  sent = sent + 1
  seq = seq + 1
  count = count + 1
  local slug = slugs[math.random(#slugs)]
  local ua, ip, lang, ref
  if mode == "shopper" then
    ua, ip, lang, ref = shopper_ua, fixed_ip, langs[1], referers[1]
  else
    ua = agent()
    ip = (mode == "abuser") and fixed_ip or address(count * 8 + (id or 0))
    lang, ref = langs[math.random(#langs)], referers[math.random(#referers)]
  end
  return "GET /" .. slug .. head .. "User-Agent: " .. ua .. "\r\nAccept-Language: " .. lang ..
    "\r\nX-Forwarded-For: " .. ip .. "\r\n" .. ref .. "\r\n"
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("sent") end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"sent":%d,' ..
    '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,' ..
    '"errors_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, total,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0),
    latency.max, latency.mean))
end
