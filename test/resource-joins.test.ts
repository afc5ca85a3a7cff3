/**
 * What a resource's joins add to its records (src/resources/joins.ts): the policy summary's
 * `policy_applies_to`, given to the policy of the same key.
 */
import assert from 'node:assert/strict';
import { indexJoin, isTruncated, withJoinedFields } from '../src/resources/joins';
import { RESOURCE_TABLE, type ResourceJoin } from '../src/resources/table';

const summaryJoin: ResourceJoin = RESOURCE_TABLE.policies.joins![0]!;

describe('resource joins', () => {
  it('gives each record the field of the item naming it, and leaves records no item names as they are', () => {
    const vpnApplies = [{ app_integration_key: 'DI1', apply_type: 'group_app', group_id: 'DG1' }];
    const index = indexJoin(summaryJoin, {
      policies: [
        { policy_key: 'POVPN', policy_name: 'VPN', policy_applies_to: vpnApplies },
        // The first item naming a record wins; items without a key are skipped.
        { policy_key: 'POVPN', policy_applies_to: [] },
        { policy_name: 'no key', policy_applies_to: [{ apply_type: 'app' }] },
        'not an item',
      ],
      policy_count: 2,
      response_is_truncated: false,
    });
    const vpn = { policy_key: 'POVPN', policy_name: 'VPN' };
    const other = { policy_key: 'POOTHER', policy_name: 'Other' };
    assert.deepEqual(withJoinedFields(vpn, [index]), { ...vpn, policy_applies_to: vpnApplies });
    assert.deepEqual(vpn, { policy_key: 'POVPN', policy_name: 'VPN' }, 'the record read is not changed');
    assert.equal(withJoinedFields(other, [index]), other);
    // An answer without the list adds nothing.
    assert.equal(withJoinedFields(vpn, [indexJoin(summaryJoin, {})]), vpn);
  });

  it('knows an answer cut short, whether Duo says so as a boolean or as text', () => {
    assert.equal(isTruncated(summaryJoin, { response_is_truncated: true }), true);
    assert.equal(isTruncated(summaryJoin, { response_is_truncated: 'True' }), true);
    assert.equal(isTruncated(summaryJoin, { response_is_truncated: false }), false);
    assert.equal(isTruncated(summaryJoin, { response_is_truncated: 'false' }), false);
    assert.equal(isTruncated(summaryJoin, {}), false);
    assert.equal(isTruncated({ ...summaryJoin, truncatedFlag: undefined }, { response_is_truncated: true }), false);
  });
});
