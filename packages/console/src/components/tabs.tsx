import { href, onLinkClick } from '../router.js';

/** Page tabs as links: each tab has its own address, so reload and back keep it. */
export function Tabs(props: { label: string; tabs: { to: string; label: string; active: boolean }[] }) {
  return (
    <nav class="tabs" aria-label={props.label}>
      {props.tabs.map((tab) => (
        <a key={tab.to} href={href(tab.to)} aria-current={tab.active ? 'page' : undefined} onClick={(e) => onLinkClick(e, tab.to)}>
          {tab.label}
        </a>
      ))}
    </nav>
  );
}
