import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * A lease on a background job shared by every instance of the service on one database (the retention
 * cleanup): the instance named `holder` may work the job until `expires_at`; once that time has passed,
 * any instance may take the lease over (the holder crashed or hung). See src/services/job-lease.ts.
 */
export const JobLease = defineEntity({
  name: 'JobLease',
  tableName: 'job_lease',
  properties: {
    name: p.string().length(100).primary(),
    holder: p.string().length(100),
    expires_at: p.datetime(),
  },
});

export type JobLease = InferEntity<typeof JobLease>;
