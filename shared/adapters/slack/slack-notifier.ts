import type { Catalog } from '../../config/catalog-schema.js';
import type { AccessRequest } from '../../domain/access-request.js';
import type { Announcement, Notice, Notifier } from '../../ports/chat.js';
import { extensionApprovalMessage } from './extension-messages.js';
import { approvalRequestMessage, renderNotice } from './request-messages.js';
import type { SlackWebApi } from './slack-web-api.js';

/**
 * The Notifier in Slack: renders each notice with the pure builders and owns how it travels. A
 * person who just acted in a channel gets an answer only they see there (a DM when the channel
 * cannot show it); everything else is a DM. Approvers are asked in the catalog's channel.
 */
export class SlackNotifier implements Notifier {
  constructor(
    private readonly slack: Pick<SlackWebApi, 'sendDirect' | 'sendEphemeral' | 'post' | 'update'>,
    private readonly catalog: Catalog,
  ) {}

  async notify(notice: Notice): Promise<void> {
    const { to, message } = renderNotice(notice, this.catalog);
    if (to.actedIn) await this.slack.sendEphemeral(to.actedIn, to.userId, message);
    else await this.slack.sendDirect(to.userId, message);
  }

  announce(request: AccessRequest): Promise<Announcement> {
    return this.slack.post(
      this.catalog.global.slack.approversChannel,
      approvalRequestMessage(request, this.catalog),
    );
  }

  refreshAnnouncement(request: AccessRequest, announcement: Announcement): Promise<'updated' | 'gone'> {
    return this.slack.update(
      announcement.channelId,
      announcement.ts,
      approvalRequestMessage(request, this.catalog),
    );
  }

  announceExtension(request: AccessRequest): Promise<Announcement> {
    return this.slack.post(
      this.catalog.global.slack.approversChannel,
      extensionApprovalMessage(request, this.catalog, request.extensions?.length ?? 1),
    );
  }

  refreshExtension(
    request: AccessRequest,
    number: number,
    announcement: Announcement,
  ): Promise<'updated' | 'gone'> {
    return this.slack.update(
      announcement.channelId,
      announcement.ts,
      extensionApprovalMessage(request, this.catalog, number),
    );
  }
}
