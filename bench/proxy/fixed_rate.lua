-- wrk script: each connection waits 10 ms between requests, so 10 connections offer about
-- 1,000 requests/s: latency measured at a fixed, light load rather than at saturation.
function delay()
  return 10
end
