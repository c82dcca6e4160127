import { requirePrincipal } from '../../auth/authenticate.ts';
import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { onReadConnections } from '../../db/sqlite-readers.ts';
import { noteAuditChanges } from '../../middleware/audit-trail.ts';
import { sentBodyMembers } from '../../middleware/operation-router.ts';
import { pageOffset, pageRequest, sendPageHeaders } from '../pagination.ts';
import { toFilterMetadata, toSearchableFields } from './process-fields.mapper.ts';
import { toProcess } from './processes.mapper.ts';

type ProcessesOperation =
  | 'createProcess'
  | 'listProcesses'
  | 'getProcess'
  | 'updateProcess'
  | 'deleteProcess'
  | 'restoreProcess'
  | 'setProcessRetention'
  | 'getProcessSearchableFields'
  | 'getProcessFilterMetadata';

/** Handlers of the `processes` tag. */
export function processesHandlers(container: Container): Pick<HandlerMap, ProcessesOperation> {
  const { processes } = container;
  /** Who is calling and which body members they sent (admin-only settings are judged on both). */
  const caller = (res: Parameters<typeof requirePrincipal>[0] & Parameters<typeof sentBodyMembers>[0]) => ({
    isAdmin: requirePrincipal(res).role === 'admin',
    sent: sentBodyMembers(res),
  });
  return {
    createProcess: async (req, res) => {
      const { name, meta, retention_months, neutralize_keep_keys } = req.body;
      const created = await processes.create(
        container.em(),
        { name, meta, retention_months, neutralize_keep_keys },
        caller(res),
      );
      res.status(201).json(toProcess(created));
    },
    listProcesses: async (req, res) => {
      const page = pageRequest(req.query);
      const { items, total } = await processes.list(container.em(), pageOffset(page), page.size);
      const meta = sendPageHeaders(req, res, page, total);
      res.json({ items: items.map(toProcess), ...meta });
    },
    getProcess: async (req, res) => {
      res.json(toProcess(await processes.get(container.em(), req.params.process_id)));
    },
    updateProcess: async (req, res) => {
      const { name, meta, retention_months, neutralize_keep_keys } = req.body;
      const updated = await processes.update(
        container.em(),
        req.params.process_id,
        { name, meta, retention_months, neutralize_keep_keys },
        caller(res),
      );
      res.json(toProcess(updated));
    },
    deleteProcess: async (req, res) => {
      await container.lifecycle.deleteProcess(container.em(), req.params.process_id);
      res.status(204).end();
    },
    restoreProcess: async (req, res) => {
      res.json(toProcess(await container.lifecycle.restoreProcess(container.em(), req.params.process_id)));
    },
    setProcessRetention: async (req, res) => {
      const { process_id } = req.params;
      const updated = await container.lifecycle.setRetention(
        container.em(),
        process_id,
        req.body.retention_months,
      );
      noteAuditChanges(res, { retention_months: req.body.retention_months });
      res.json(toProcess(updated));
    },
    getProcessSearchableFields: async (req, res) => {
      const fields = await container.processFields.searchableFields(container.em(), req.params.process_id);
      res.json(toSearchableFields(fields));
    },
    getProcessFilterMetadata: async (req, res) => {
      const metadata = await onReadConnections(() =>
        container.processFields.filterMetadata(container.em(), req.params.process_id),
      );
      res.json(toFilterMetadata(metadata));
    },
  };
}
