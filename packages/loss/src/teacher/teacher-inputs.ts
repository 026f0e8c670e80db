import { type CsrMatrix, type Matrix, PromaxError } from '@promax/core';
import { checkFiniteRows, checkMatrix, checkPositiveNumber } from '../validate.js';

/** What every SDR teacher (dense or sparse) checks of its inputs before computing anything. */
export function checkTeacherInputs(options: {
  userProfiles: Matrix;
  itemProfiles: Matrix;
  tauP?: number;
  weightClip?: readonly [number, number];
  mask?: CsrMatrix;
}): { numUsers: number; numItems: number; dim: number; tauP: number; weightClip: readonly [number, number] } {
  const { userProfiles, itemProfiles, mask } = options;
  checkMatrix(userProfiles, 'userProfiles');
  checkMatrix(itemProfiles, 'itemProfiles');
  checkFiniteRows(userProfiles, 'userProfiles');
  checkFiniteRows(itemProfiles, 'itemProfiles');
  if (userProfiles.cols !== itemProfiles.cols) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: 'itemProfiles',
      message: `user profile vectors are ${userProfiles.cols}-d but item vectors are ${itemProfiles.cols}-d`,
      fix: 'preprocess users and items to the same dimension (preprocessProfiles does)',
    });
  }
  const numUsers = userProfiles.rows;
  const numItems = itemProfiles.rows;
  const dim = userProfiles.cols;
  if (numItems < 2) {
    throw new PromaxError({
      code: 'INVALID_DATA',
      field: 'itemProfiles',
      message: 'the teacher needs at least 2 items (its weight divides by log N)',
    });
  }
  const tauP = options.tauP ?? 0.2;
  checkPositiveNumber(tauP, 'tauP');
  const weightClip = options.weightClip ?? [0.1, 1];
  if (
    !(weightClip.length === 2 && weightClip[0] >= 0 && weightClip[0] <= weightClip[1] && weightClip[1] <= 1)
  ) {
    throw new PromaxError({
      code: 'INVALID_ARGUMENT',
      field: 'weightClip',
      message: `weightClip must be [lo, hi] with 0 ≤ lo ≤ hi ≤ 1, got [${weightClip.join(', ')}]`,
    });
  }
  if (mask) checkMask(mask, numUsers, numItems);
  return { numUsers, numItems, dim, tauP, weightClip };
}

function checkMask(mask: CsrMatrix, users: number, items: number): void {
  if (mask.rows !== users || mask.cols !== items) {
    throw new PromaxError({
      code: 'SHAPE_MISMATCH',
      field: 'mask',
      message: `the mask is ${mask.rows}×${mask.cols} but the profiles give ${users} users × ${items} items`,
      fix: 'pass the train matrix of the same dataset',
    });
  }
  for (let u = 0; u < users; u++) {
    const s = mask.indptr[u];
    const e = mask.indptr[u + 1];
    for (let q = s; q < e; q++) {
      const i = mask.indices[q];
      if (!(i >= 0 && i < items)) {
        throw new PromaxError({
          code: 'ID_OUT_OF_RANGE',
          field: 'mask',
          message: `mask row ${u} holds item ${i}, outside [0, ${items})`,
        });
      }
    }
    // Rows are canonical (sorted, unique) in CsrMatrix; a full row leaves nothing to renormalise over.
    if (e - s >= items) {
      let distinct = 0;
      for (let q = s; q < e; q++) if (q === s || mask.indices[q] !== mask.indices[q - 1]) distinct++;
      if (distinct >= items) {
        throw new PromaxError({
          code: 'INVALID_DATA',
          field: 'mask',
          message: `user ${u} has every item masked, so its teacher distribution is empty`,
          fix: 'disable maskTrain, or drop users who interacted with every item',
          details: { user: u },
        });
      }
    }
  }
}
