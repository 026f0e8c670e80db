/**
 * The two evaluation protocols of the baselines' released code (baselines.md §1): ProRec's, under
 * which the ProEx and ProMax logs were produced (method.md §6, this project's default), and
 * RLMRec's own. A protocol only changes defaults: values a user sets explicitly win.
 */
export type ExperimentProtocol = 'prorec' | 'rlmrec';

export const EXPERIMENT_PROTOCOLS: readonly ExperimentProtocol[] = ['prorec', 'rlmrec'];

/** What a protocol sets beneath the user's own values. */
export interface ProtocolDefaults {
  readonly seed: number;
  /** Trainer settings (e.g. patience). */
  readonly trainer: Readonly<Record<string, unknown>>;
  /** Model settings by model id. */
  readonly modelSettings: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** What differs from the released protocol and why, for run records and the CLI. */
  readonly notes: readonly string[];
}

/**
 * The defaults of a protocol. 'prorec': seed 2025, patience 20, LightGCN over layers 1..L, no edge
 * dropout. 'rlmrec': seed 2023, patience 5, LightGCN summing layers 0..L, and RLMRec's per-step
 * edge dropout (`SpAdjEdgeDrop`, keep 0.8 per stored entry of the symmetric Â, no rescaling, so
 * u→i may survive while i→u is dropped): `edgeKeepRate` 0.8 for LightGCN (every training forward)
 * and SGL (its two contrastive views; BPR stays on the full graph). SimGCL's keep_rate is 1.0 and
 * GCCF's forward never drops, so they get none.
 */
export function protocolDefaults(protocol: ExperimentProtocol): ProtocolDefaults {
  if (protocol === 'rlmrec') {
    return {
      seed: 2023,
      trainer: { patience: 5 },
      modelSettings: {
        lightgcn: { layerCombination: 'sum0', edgeKeepRate: 0.8 },
        sgl: { edgeKeepRate: 0.8 },
      },
      notes: [
        "rlmrec protocol: SGL keeps its own contrastive term (in-batch InfoNCE over the batch's users and positives) and layers 1..L; RLMRec's sgl.py contrasts users, positives and negatives against every row and sums layers 0..L",
      ],
    };
  }
  // ProRec's values are the schemas' own defaults (seed 2025, patience 20, layers 1..L).
  return { seed: 2025, trainer: {}, modelSettings: {}, notes: [] };
}
