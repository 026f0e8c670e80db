import { PromaxError } from '@promax/core';
import type { Dim } from '../dims.js';
import type { DType, OpDef } from '../ir.js';

function leaf(name: string): OpDef {
  return {
    name,
    infer(_inputs, attrs) {
      return [{ dtype: attrs.dtype as DType, shape: attrs.shape as Dim[] }];
    },
    lower() {
      throw new PromaxError({
        code: 'ENGINE_ERROR',
        message: `${name} leaves are lowered by the compiler itself`,
      });
    },
  };
}

/** A value fed at run time. */
export const Input = leaf('Input');
/** A trainable float32 tensor fed from a parameter store. */
export const Param = leaf('Param');
/** A constant stored in the model. */
export const Constant = leaf('Constant');

export const LEAF_OPS: readonly OpDef[] = [Input, Param, Constant];
