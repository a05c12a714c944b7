// When the reconciler may read a resource from its cache (controller-runtime's cached client) and when it must read
// live: after its own write until the watch delivers it, and after a conflict — once, not for ever (issue 10 §4).
import { expect } from 'chai';
import { CacheFreshness } from '../../api/reconcile/freshness.js';

describe('cache freshness', () => {
  it('trusts the cache until we write, then only once the cache holds our write', () => {
    const f = new CacheFreshness();
    expect(f.trust('ns/a', '5')).to.equal(true);
    f.wrote('ns/a', '7');
    expect(f.trust('ns/a', '6'), 'older than our write').to.equal(false);
    expect(f.trust('ns/a', '7'), 'the watch delivered it').to.equal(true);
    expect(f.size).to.equal(0);
  });

  it('after a conflict reads live once, and trusts the cache again once it reached what that read found', () => {
    const f = new CacheFreshness();
    f.conflicted('ns/a');
    expect(f.trust('ns/a', '9'), 'the next read is live').to.equal(false);
    f.readLive('ns/a', '10');
    expect(f.trust('ns/a', '9')).to.equal(false);
    expect(f.trust('ns/a', '10'), 'no later write of ours is needed to trust the cache again').to.equal(true);
    expect(f.size, 'nothing sticks').to.equal(0);
  });

  it('a live read without a conflict (a resource new to the cache) sets no floor', () => {
    const f = new CacheFreshness();
    f.readLive('ns/b', '3');
    expect(f.size).to.equal(0);
  });

  it('does not trust a copy whose resourceVersion is not an etcd revision while a floor is set, and forgets deleted resources', () => {
    const f = new CacheFreshness();
    f.wrote('ns/a', '4');
    expect(f.trust('ns/a', 'opaque')).to.equal(false);
    f.forget('ns/a');
    expect(f.trust('ns/a', 'opaque')).to.equal(true);
  });
});
