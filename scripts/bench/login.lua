-- wrk: POST /connexion with a correct password, cycling over the bench accounts
-- (bench1..benchN@relais.test, see scripts/bench/logins). Same CSRF token in the cookie and
-- the form field, no Origin header. A correct password answers 303 (to the second factor);
-- anything else is counted as an error and printed at the end.
local accounts = tonumber(os.getenv("BENCH_ACCOUNTS") or "4")
local password = "une%20longue%20phrase%20de%20passe%20pour%20le%20banc"
local csrf = "jeton-csrf-du-banc-0123456789"
local threads = {}
local i = 0

setup = function(thread)
  table.insert(threads, thread)
end

init = function()
  ok, other = 0, 0
end

request = function()
  i = i + 1
  local body = "email=bench" .. ((i % accounts) + 1) .. "%40relais.test&password=" .. password
      .. "&csrf=" .. csrf .. "&suite=%2Fcompte"
  return wrk.format("POST", "/connexion", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "relais_csrf=" .. csrf,
  }, body)
end

response = function(status)
  if status == 303 then ok = ok + 1 else other = other + 1 end
end

done = function()
  local o, x = 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    x = x + t:get("other")
  end
  io.write(string.format("logins 303: %d, other statuses: %d\n", o, x))
end
