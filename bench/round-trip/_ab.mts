import { benchReturns } from "./returns.ts";

for (let i = 0; i < 3; i++) {
  const r = await benchReturns(1000);
  console.log(r.perSecond.toFixed(0), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2));
}
