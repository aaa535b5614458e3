import { statements as directory } from './0001_directory.ts';
import { statements as methods } from './0002_methods.ts';
import { statements as policies } from './0003_policies.ts';
import { statements as signInHotPath } from './0004_sign_in_hot_path.ts';
import { statements as logQueries } from './0005_log_queries.ts';
import { statements as auditChain } from './0006_audit_chain.ts';
import { statements as policyHistory } from './0007_policy_history.ts';
import { statements as selfService } from './0008_self_service.ts';
import { statements as recovery } from './0009_recovery.ts';
import { statements as delegatedTokens } from './0010_delegated_tokens.ts';
import { statements as oneGrantStore } from './0011_one_grant_store.ts';

/**
 * Versioned migrations, applied in order at start-up. Each is a string of SQL statements separated
 * by `;` at line ends (PGlite's extended protocol takes one statement per query). Never edit a
 * released migration: add the next one.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: 'directory', sql: directory },
  { version: 2, name: 'methods', sql: methods },
  { version: 3, name: 'policies', sql: policies },
  { version: 4, name: 'sign-in hot path', sql: signInHotPath },
  { version: 5, name: 'log queries', sql: logQueries },
  { version: 6, name: 'audit chain', sql: auditChain },
  { version: 7, name: 'policy history', sql: policyHistory },
  { version: 8, name: 'self service', sql: selfService },
  { version: 9, name: 'recovery', sql: recovery },
  { version: 10, name: 'delegated tokens', sql: delegatedTokens },
  { version: 11, name: 'one grant store', sql: oneGrantStore },
];
