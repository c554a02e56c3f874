import { renderLink } from './links';

describe('renderLink', () => {
  it('fills label values URL-encoded', () => {
    expect(renderLink('/d/tillwatch-till?var-till=${till}&var-store=${store}', { till: 't 1', store: 's&1' })).toBe(
      '/d/tillwatch-till?var-till=t%201&var-store=s%261'
    );
  });

  it('inserts a whole URL unencoded with :raw and hides a link that comes out empty', () => {
    expect(renderLink('${runbook_url:raw}', { runbook_url: 'https://x/r?a=1' })).toBe('https://x/r?a=1');
    expect(renderLink('${runbook_url:raw}', {})).toBeUndefined();
    expect(renderLink('', { till: 't' })).toBeUndefined();
  });
});
