/* tslint:disable */
/* eslint-disable */
export * from './AdminApi.js';
export * from './ApiKeysApi.js';
export * from './AuditLogsApi.js';
export * from './AuthApi.js';
export * from './DashboardApi.js';
export * from './MetaApi.js';
export * from './ProcessesApi.js';
export * from './RunsApi.js';
export * from './StepRunsApi.js';
export * from './StepsApi.js';
