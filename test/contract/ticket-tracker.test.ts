import { REQUEST_ID_PROPERTY } from '../../shared/ports/ticket-tracker.js';
import { ticketTrackerContract, type TicketTrackerContractSubject } from './ticket-tracker.contract.js';

import {
  ALICE,
  APP_USER,
  BOB,
  DAVE,
  emulator,
  propertyRequestId,
  tracker,
  useJiraEmulator,
} from '../fixtures/jira-world.js';

/* The TicketTracker contract, run against the Jira adapter on the emulator. */

useJiraEmulator();

/** The contract's view of the emulator, read around the tracker under test. */
function contractSubject(
  overrides: Partial<TicketTrackerContractSubject> = {},
): TicketTrackerContractSubject {
  return {
    tracker: tracker(),
    projectKey: 'DBA',
    issueType: 'Access Request',
    requestIdOnTicket: (ticket) =>
      Promise.resolve(propertyRequestId(emulator.issue(ticket.key)?.properties[REQUEST_ID_PROPERTY])),
    ticketCount: (requestId) => Promise.resolve(emulator.issuesByRequestId(requestId).length),
    statuses: { initial: 'To Do', reachable: 'Approved', unreachable: 'Access Granted' },
    accounts: {
      self: APP_USER.accountId,
      visible: { accountId: ALICE, email: 'alice@example.com' },
      hidden: BOB,
      deactivated: DAVE,
    },
    statusOf: (ticket) => Promise.resolve(emulator.issue(ticket.key)?.status),
    commentsOn: (ticket) =>
      Promise.resolve(emulator.issue(ticket.key)?.comments.map((comment) => comment.body) ?? []),
    ...overrides,
  };
}

ticketTrackerContract('JiraTicketTracker on the Jira emulator', () => contractSubject());

ticketTrackerContract('JiraTicketTracker on the Jira emulator, search index lagging a minute', () => {
  emulator.setSearchIndexLag(60_000);
  return contractSubject({ settle: () => emulator.indexNow() });
});
