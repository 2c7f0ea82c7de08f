// serve.js: what the fuzz oracles share: requests read from standard input as they come, one line of answer each.
'use strict';

// take(buf) returns null while buf holds no whole request, else [bytes used, judge()'s arguments].
// A judge that throws is answered with `failed` and the reason, so the C side reports the input.
module.exports = function serve(take, judge, failed) {
  let buf = Buffer.alloc(0);
  process.stdin.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    const out = [];
    for (let req; (req = take(buf)) !== null;) {
      try {
        out.push(judge(...req[1]));
      } catch (e) {
        out.push(failed + String(e && e.message).split('\n')[0]);
      }
      buf = buf.subarray(req[0]);
    }
    if (out.length) process.stdout.write(out.join('\n') + '\n');
  });
};
