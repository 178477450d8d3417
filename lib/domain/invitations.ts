/**
 * Invitations and admissions: POST /group/add, /group/join, /group/agree, GET /group/notice_info,
 * POST /group/clear_notice. Rules: docs/decisions.md; flow: the SealTalk reference's §6.
 */

/** What these operations need from storage (implemented in lib/store/invitations.ts). */
export type InvitationStore = Record<never, never>;
