// Fixed-rate latency: POST {"op":"increment"} to /entities/counter/<random 0..9999> at a steady overall rate
// (not as fast as possible), so latency is measured below saturation instead of as queueing at saturation.
// Usage: node bench/fixed-rate.js <base-url> <requests-per-second> [seconds=20] [connections=64]
// Needs: npm install --prefix bench (autocannon, from bench/package.json).
const autocannon = require('autocannon');

const [base, rate, seconds = '20', connections = '64'] = process.argv.slice(2);
if (!base || !rate) {
  console.error('usage: node bench/fixed-rate.js http://127.0.0.1:18080 5000 [seconds] [connections]');
  process.exit(2);
}
const body = JSON.stringify({ op: 'increment' });
autocannon({
  url: base,
  connections: Number(connections),
  duration: Number(seconds),
  overallRate: Number(rate),
  requests: [{
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    setupRequest: (req) => ({ ...req, path: '/entities/counter/' + Math.floor(Math.random() * 10000), body }),
  }],
}, (err, r) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  const l = r.latency;
  console.log(`target ${rate} req/s for ${seconds}s, ${connections} connections: achieved ${Math.round(r.requests.average)} req/s`);
  console.log(`latency ms: p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  p99.9 ${l.p99_9}  max ${l.max}`);
  console.log(`2xx ${r['2xx']}  non-2xx ${r.non2xx}  errors ${r.errors}  timeouts ${r.timeouts}`);
});
