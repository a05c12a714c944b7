// The API server's audit log, the one honest count of who called what (SPEC §9).
import { readFileSync } from 'node:fs';
import { localStack } from './stack.js';

export interface AuditEvent {
  verb: string;
  stage: string;
  userAgent?: string;
  user: { username?: string; extra?: Record<string, string[]> };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  annotations?: Record<string, string>;
  requestReceivedTimestamp: string;
}

/** The audit log is written in 1 s batches: wait that long before reading what just happened. */
export const settleAudit = () => new Promise((r) => setTimeout(r, 1500));

export async function auditEvents(filter: (e: AuditEvent) => boolean = () => true): Promise<AuditEvent[]> {
  return readFileSync((await localStack()).controlPlane.auditLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => e.stage === 'ResponseComplete' && filter(e));
}

/** Calls made by one flink-operator instance (its client's user agent carries its identity). */
export const byOperator = (identity: string) => (e: AuditEvent) =>
  e.userAgent?.startsWith(`flink-operator-ts/${identity}`) === true;
