import type { ActiveDirectoryConnection } from '../active-directory.js';
import type { JiraWorkflowFixture } from '../emulators/jira/jira-emulator.js';
import type { SlackUserFixture } from '../emulators/slack/slack-emulator.js';
import type { MariaDbConnection } from '../mariadb.js';
import type { LocalStackOptions } from '../stack.js';

/*
 * The world the demo, `npm run dev` with emulators, and the tests share: the Slack team and
 * approvers' channel, the people of the seeded directory (local/active-directory.ts) with their
 * Slack and Jira identities, a DBA team's Jira workflow, and a catalog of one database with a
 * read level (one approval) and a write level (two).
 */

export const TEAM = 'T0JITTEAM';
export const APPROVERS = 'C0APPROVALS';

/** How a person's Slack account differs from a full member's. */
export type SlackStanding = Pick<SlackUserFixture, 'guest' | 'homeTeamId' | 'emailConfirmed'>;

export interface WorldPerson {
  readonly slackId: string;
  readonly jiraId: string;
  readonly email: string;
  readonly name: string;
  readonly slack?: SlackStanding;
  /** Whether Atlassian shows the e-mail (a profile may hide it); shown when not said. */
  readonly emailVisible?: boolean;
}

export type DemoPerson = 'alice' | 'bob' | 'frank' | 'carol' | 'dave';

/**
 * alice engineers (eng-db-readers), bob approves through a nested group (dba-oncall in
 * db-approvers), frank approves directly, carol is disabled, dave is in no group.
 */
export function demoPeople(ad: ActiveDirectoryConnection): Record<DemoPerson, WorldPerson> {
  return {
    alice: {
      slackId: 'U0ALICE01',
      jiraId: '712020:alice',
      email: ad.users.engineer.mail,
      name: 'Alice Engineer',
    },
    bob: { slackId: 'U0BOB0001', jiraId: '712020:bob', email: ad.users.approver.mail, name: 'Bob Approver' },
    frank: {
      slackId: 'U0FRANK01',
      jiraId: '712020:frank',
      email: ad.users.secondApprover.mail,
      name: 'Frank Approver',
    },
    carol: {
      slackId: 'U0CAROL01',
      jiraId: '712020:carol',
      email: ad.users.disabled.mail,
      name: 'Carol Disabled',
    },
    dave: {
      slackId: 'U0DAVE001',
      jiraId: '712020:dave',
      email: ad.users.noGroups.mail,
      name: 'Dave Nogroups',
    },
  };
}

/** Approve and Decline both ways, and a way back, as a DBA team's workflow would have them. */
export const DBA_WORKFLOW: JiraWorkflowFixture = {
  name: 'jit-access decisions',
  statuses: [
    { name: 'To Do', category: 'new' },
    { name: 'Approved', category: 'indeterminate' },
    { name: 'Declined', category: 'done' },
    { name: 'Access Granted', category: 'indeterminate' },
    { name: 'Done', category: 'done' },
  ],
  transitions: [
    { name: 'Approve', from: ['To Do', 'Declined'], to: 'Approved' },
    { name: 'Decline', from: ['To Do', 'Approved'], to: 'Declined' },
    { name: 'Back to review', from: ['Approved', 'Declined'], to: 'To Do' },
    { name: 'Cancel', from: ['To Do'], to: 'Done' },
    { name: 'Grant access', from: ['Approved'], to: 'Access Granted' },
    { name: 'Close', from: ['Approved', 'Access Granted'], to: 'Done' },
  ],
};

/** alice requests; `read` needs one approval, `write` two. */
export function worldCatalogYaml(
  ad: ActiveDirectoryConnection,
  db: Pick<MariaDbConnection, 'host' | 'port'>,
  approversChannel: string,
): string {
  return `version: 1
global:
  jira:
    site: https://example.atlassian.net
    projectKey: DBA
    issueType: Access Request
    statuses: { approved: Approved, denied: Declined, granted: Access Granted, closed: Done }
  decisionTimeout: 8h
  slack:
    approversChannel: ${approversChannel}
  vault:
    wrapTtl: 5m
databases:
  orders:
    host: ${db.host}
    port: ${db.port}
    flavor: mariadb
    vaultConnection: orders-mysql
    environment: prod
    levels:
      read:
        grants: ["GRANT SELECT ON orders.* TO '{{name}}'@'%'"]
        defaultDuration: 1h
        maxDuration: 4h
        maxExtension: 2h
        requesterGroups: ["${ad.groups['eng-db-readers']}"]
        # eng-db-readers approves too: the requester and the disabled account are then in an
        # approver group, so it is the self-approval and disabled checks that must refuse them.
        approverGroups: ["${ad.groups['db-approvers']}", "${ad.groups['eng-db-readers']}"]
      write:
        grants: ["GRANT SELECT, UPDATE ON orders.* TO '{{name}}'@'%'"]
        defaultDuration: 30m
        maxDuration: 2h
        requesterGroups: ["${ad.groups['eng-db-readers']}"]
        approverGroups: ["${ad.groups['db-approvers']}"]
        approvalsRequired: 2
`;
}

/** The local stack's Slack, Jira and catalog for `people`, on this directory. */
export function worldStack<P extends string>(
  ad: ActiveDirectoryConnection,
  people: Readonly<Record<P, WorldPerson>>,
): Pick<LocalStackOptions, 'directory' | 'catalog' | 'slack' | 'jira'> {
  const names = Object.keys(people) as P[];
  // The stack also needs `database`: the catalog points at it.
  return {
    directory: ad,
    catalog: (_ad, db) => worldCatalogYaml(ad, db, APPROVERS),
    slack: {
      teamId: TEAM,
      users: names.map((p) => ({
        id: people[p].slackId,
        name: p,
        realName: people[p].name,
        email: people[p].email,
        ...people[p].slack,
      })),
      channels: [{ id: APPROVERS, name: 'db-approvals' }],
    },
    jira: {
      workflows: [DBA_WORKFLOW],
      projects: [
        {
          key: 'DBA',
          name: 'Database Access',
          issueTypes: [{ name: 'Access Request', workflow: DBA_WORKFLOW.name }],
        },
      ],
      users: names.map((p) => ({
        accountId: people[p].jiraId,
        displayName: people[p].name,
        emailAddress: people[p].email,
        emailVisible: people[p].emailVisible ?? true,
      })),
    },
  };
}
