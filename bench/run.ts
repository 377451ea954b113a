import { runAdversarialInputBench } from './adversarial-input.ts';
import { runBurstBench } from './burst.ts';
import { runClusterBench } from './cluster.ts';
import { runDeliveryBench } from './delivery.ts';
import { runEditDisciplineBench } from './edit-discipline.ts';
import { runMemoryBench } from './memory.ts';
import { runQuotaLedgerBench } from './quota-ledger.ts';
import { runRunningJobsBench } from './running-jobs.ts';
import { runShapesBench } from './shapes.ts';
import { runStreamClientBench } from './stream-client.ts';
import { machine } from './support/report.ts';
import { runVideosApiJobsBench } from './videos-api-jobs.ts';

/**
 * `npm run bench [-- name…]`: runs the benches (all by default, in this order), prints a table for
 * each and saves it as JSON under bench/results/.
 */

const BENCHES: Record<string, () => Promise<object>> = {
  burst: runBurstBench,
  'running-jobs': runRunningJobsBench,
  'stream-client': runStreamClientBench,
  delivery: runDeliveryBench,
  'edit-discipline': runEditDisciplineBench,
  'adversarial-input': runAdversarialInputBench,
  'quota-ledger': runQuotaLedgerBench,
  'videos-api-jobs': runVideosApiJobsBench,
  cluster: runClusterBench,
  shapes: runShapesBench,
  memory: runMemoryBench,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown bench: ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}

const { nproc, cpu, node } = machine();
console.log(`sora-bot benches on ${nproc} × ${cpu}, Node ${node}`);
const started = performance.now();
for (const [name, run] of Object.entries(BENCHES)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const benchStarted = performance.now();
  await run();
  console.log(`  (${name}: ${((performance.now() - benchStarted) / 1000).toFixed(1)} s)`);
}
console.log(`\nall done in ${((performance.now() - started) / 1000).toFixed(1)} s; JSON in bench/results/`);
