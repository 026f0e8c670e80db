import { runCustomPipeline } from './custom-pipeline.js';

const maxEpochs = Number(process.argv[2] ?? 30);
const out = await runCustomPipeline({
  maxEpochs,
  onProgress: (e) => {
    if (e.type === 'evaluation')
      process.stderr.write(`epoch ${e.epoch}: val recall@20 ${e.metrics['recall@20'].toFixed(4)}\n`);
  },
});
console.log(JSON.stringify(out, null, 2));
