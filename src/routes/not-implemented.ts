import type { Handler, OperationId } from '../contract.ts';
import { NotImplementedError } from '../errors/domain-errors.ts';

const placeholders = new WeakSet<object>();

/** Placeholder for an operation whose capability lands in a later issue: answers 501 problem+json. */
export function notImplemented<K extends OperationId>(operationId: K): Handler<K> {
  const handler: Handler<K> = () => {
    throw new NotImplementedError(operationId);
  };
  placeholders.add(handler);
  return handler;
}

/** Whether `handler` is a 501 placeholder (the fuzzing exclusion list is checked against this). */
export function isPlaceholder(handler: unknown): boolean {
  return typeof handler === 'function' && placeholders.has(handler);
}
