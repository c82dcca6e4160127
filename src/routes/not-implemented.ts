import type { Handler, OperationId } from '../contract.ts';
import { NotImplementedError } from '../errors/domain-errors.ts';

/** Placeholder for an operation whose capability lands in a later issue: answers 501 problem+json. */
export function notImplemented<K extends OperationId>(operationId: K): Handler<K> {
  return () => {
    throw new NotImplementedError(operationId);
  };
}
