-- wrk script for bench/load.sh: a mixed read/write load of many users on one login each.
-- Environment (set by load.sh): GM_TOKEN (REST bearer token from /api/v1/security/login, taken
-- once), GM_COOKIE (the session cookie of one HTML login), GM_IDS (a file with mine ids in the
-- user's scope, one a line), GM_PAGES (mine-list REST pages in scope).
-- Mix per request: 40 % REST mine list (random page), 15 % REST application list, 15 % REST
-- mine by id, 15 % HTML mine list (random page), 5 % statistics JSON, 10 % PUT of a mine's
-- address (token-authenticated REST: CSRF-exempt).
local token = os.getenv("GM_TOKEN")
local cookie = os.getenv("GM_COOKIE")
local pages = tonumber(os.getenv("GM_PAGES") or "100")
local ids = {}
for line in io.lines(os.getenv("GM_IDS")) do ids[#ids + 1] = line end

local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + id * 7919)
  statuses = {}
  writes = 0
end

local bearer = { ["Authorization"] = "Bearer " .. token }
local json_put = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
local html = { ["Cookie"] = cookie }

function request()
  local r = math.random(100)
  if r <= 40 then
    return wrk.format("GET", "/api/v1/mine/?q=(page:" .. math.random(0, pages - 1) .. ",page_size:25)", bearer)
  elseif r <= 55 then
    return wrk.format("GET", "/api/v1/application/?q=(page:" .. math.random(0, pages - 1) .. ",page_size:25)", bearer)
  elseif r <= 70 then
    return wrk.format("GET", "/api/v1/mine/" .. ids[math.random(#ids)], bearer)
  elseif r <= 85 then
    return wrk.format("GET", "/mineview/list/?page_MineView=" .. math.random(0, pages - 1), html)
  elseif r <= 90 then
    return wrk.format("GET", "/api/v1/statistics/region", bearer)
  else
    writes = writes + 1
    local body = '{"address": "基准负载路' .. math.random(1, 99999) .. '号"}'
    return wrk.format("PUT", "/api/v1/mine/" .. ids[math.random(#ids)], json_put, body)
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local all, w = {}, 0
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do all[k] = (all[k] or 0) + v end
    w = w + t:get("writes")
  end
  local parts = {}
  for k, v in pairs(all) do parts[#parts + 1] = k .. "=" .. v end
  io.write(string.format("RESULT requests=%d duration_s=%.1f rps=%.1f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f "
    .. "socket_errors=%d non2xx=%d writes_sent=%d statuses=%s\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, w, table.concat(parts, ",")))
end
