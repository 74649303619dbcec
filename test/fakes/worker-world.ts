import { InMemoryRequestStore } from './in-memory-request-store.js';
import {
  FakeChatIdentity,
  FakeDirectory,
  RecordingNotifier,
  RecordingTicketTracker,
} from './recording-ports.js';
import type { DirectoryUser } from '../../shared/ports/directory.js';
import {
  COMMAND_VERSION,
  type RequestCancel,
  type RequestDecided,
  type RequestSubmitted,
} from '../../shared/messages/commands.js';
import { exampleCatalog } from '../fixtures/catalog.js';
import { ManualClock } from '../fixtures/manual-clock.js';

export const GROUPS = {
  readers: 'CN=eng-db-readers,OU=Groups,DC=example,DC=com',
  oncall: 'CN=eng-oncall,OU=Groups,DC=example,DC=com',
  approvers: 'CN=db-approvers,OU=Groups,DC=example,DC=com',
} as const;

export type Person = 'alice' | 'bob' | 'frank' | 'carol' | 'dave';

const PEOPLE: Record<Person, { slackId: string; jiraId: string; groups: string[]; enabled?: boolean }> = {
  // Requester of read and write, and an approver too: she still never decides her own requests.
  alice: {
    slackId: 'U0ALICE01',
    jiraId: '712020:alice',
    groups: [GROUPS.readers, GROUPS.oncall, GROUPS.approvers],
  },
  bob: { slackId: 'U0BOB0001', jiraId: '712020:bob', groups: [GROUPS.approvers] },
  frank: { slackId: 'U0FRANK01', jiraId: '712020:frank', groups: [GROUPS.approvers] },
  // An approver whose account is disabled.
  carol: { slackId: 'U0CAROL01', jiraId: '712020:carol', groups: [GROUPS.approvers], enabled: false },
  // In no group at all.
  dave: { slackId: 'U0DAVE001', jiraId: '712020:dave', groups: [] },
};

const TEAM = 'T0JITTEAM';

/**
 * The worker's use cases on recording fakes of every port: the example catalog, people in a
 * fake directory with Slack and Jira identities, time that moves only when told.
 */
export function workerWorld() {
  const catalog = exampleCatalog();
  const clock = new ManualClock(new Date('2026-11-21T10:00:00.000Z'));
  const store = new InMemoryRequestStore(clock);
  const notifier = new RecordingNotifier();
  const tickets = new RecordingTicketTracker();
  const directory = new FakeDirectory();
  const identity = new FakeChatIdentity();
  const users = {} as Record<Person, DirectoryUser>;
  for (const [name, person] of Object.entries(PEOPLE) as [Person, (typeof PEOPLE)[Person]][]) {
    users[name] = directory.add({ sAMAccountName: name, enabled: person.enabled ?? true }, person.groups);
    identity.emails.set(person.slackId, `${name}@example.com`);
    tickets.emails.set(person.jiraId, `${name}@example.com`);
  }
  const deps = {
    catalog,
    clock,
    store,
    notifier,
    tickets,
    directory,
    identity,
    lookupAttribute: 'mail' as const,
    invocationId: 'invocation-1',
  };
  let commands = 0;
  const envelope = (kind: string) => ({
    version: COMMAND_VERSION,
    commandId: `${kind}:${String(++commands).padStart(8, '0')}`,
    issuedAt: clock.now().toISOString(),
  });

  return {
    ...deps,
    deps,
    users,
    slackId: (person: Person) => PEOPLE[person].slackId,
    jiraId: (person: Person) => PEOPLE[person].jiraId,

    submitted(
      person: Person,
      overrides: Partial<RequestSubmitted> = {},
      target = { database: 'orders', level: 'read' },
    ): RequestSubmitted {
      return {
        type: 'request.submitted',
        ...envelope('submit'),
        requestId: `REQ-0K2M9Q${String(commands).padStart(2, '0')}`.replace(/[ILOU]/g, '0'),
        requester: { kind: 'slack', userId: PEOPLE[person].slackId, teamId: TEAM, userName: person },
        channelId: 'C0INCIDENT',
        via: 'slash_command',
        target,
        durationMinutes: 60,
        justification: 'INC-1234 checking stuck orders',
        ...overrides,
      };
    },

    decidedInSlack(
      person: Person,
      requestId: string,
      decision: 'approve' | 'deny',
      extra: Partial<RequestDecided> = {},
    ): RequestDecided {
      return {
        type: 'request.decided',
        ...envelope('decide'),
        requestId,
        decision,
        source: 'slack',
        actor: { kind: 'slack', userId: PEOPLE[person].slackId, teamId: TEAM },
        slackMessage: { channelId: 'C0APPROVALS', ts: '1700000000.000001' },
        ...extra,
      };
    },

    decidedInJira(
      person: Person,
      requestId: string,
      decision: 'approve' | 'deny',
      jira: { issueKey: string; fromStatus: string; toStatus: string },
    ): RequestDecided {
      return {
        type: 'request.decided',
        ...envelope('decide'),
        requestId,
        decision,
        source: 'jira',
        actor: { kind: 'jira', accountId: PEOPLE[person].jiraId },
        jira,
      };
    },

    cancel(person: Person, requestId: string): RequestCancel {
      return {
        type: 'request.cancel',
        ...envelope('cancel'),
        requestId,
        actor: { kind: 'slack', userId: PEOPLE[person].slackId, teamId: TEAM },
      };
    },
  };
}

export type WorkerWorld = ReturnType<typeof workerWorld>;
