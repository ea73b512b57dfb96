// The token dialogs, one file each (issue 19); this index keeps the old import path short.
export { AddTokenDialog } from './add-token-dialog.js';
export { EditTokenDialog } from './edit-token-dialog.js';
export { RevokeTokenDialog } from './revoke-token-dialog.js';
export { RotateTokenDialog } from './rotate-token-dialog.js';
export type { TokenOwner } from './fields.js';
export { ChooseOwnerDialog } from './choose-owner-dialog.js';
