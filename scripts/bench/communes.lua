-- wrk: rotate through autocomplete queries people type (names, prefixes, postal codes).
local queries = { "st%20etienne", "lyon", "mars", "ile%20d%20yeu", "bordeaux", "saint",
                  "42000", "paris", "nan", "la%20roche", "montp", "vill", "2A004", "brest" }
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/territoires/communes?q=" .. queries[(i % #queries) + 1])
end
