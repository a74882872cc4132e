-- wrk: the nearest lieux search, rotating points (towns of Auvergne-Rhône-Alpes, where the
-- demo lieux are, and a few elsewhere) and filters (one service, or a service and fees).
local points = { "45.7676&lon=4.8357", "45.4397&lon=4.3872", "45.1885&lon=5.7245",
                 "45.7772&lon=3.0870", "46.2052&lon=5.2255", "45.5646&lon=5.9178",
                 "44.9334&lon=4.8924", "46.3059&lon=4.8320", "48.8566&lon=2.3522",
                 "43.2965&lon=5.3698", "45.9000&lon=6.1167" }
local filters = { "services=Aide%20aux%20d%C3%A9marches%20administratives",
                  "services=Ma%C3%AEtrise%20des%20outils%20num%C3%A9riques%20du%20quotidien",
                  "services=Acc%C3%A8s%20internet%20et%20mat%C3%A9riel%20informatique&frais=Gratuit",
                  "services=Parentalit%C3%A9%20et%20%C3%A9ducation%20avec%20le%20num%C3%A9rique",
                  "services=Aide%20aux%20d%C3%A9marches%20administratives&frais=Gratuit" }
local i = 0
request = function()
  i = i + 1
  local p = points[(i % #points) + 1]
  local f = filters[(math.floor(i / #points) % #filters) + 1]
  return wrk.format("GET", "/api/v1/lieux?lat=" .. p .. "&" .. f .. "&limite=20")
end
