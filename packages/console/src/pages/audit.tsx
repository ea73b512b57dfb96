export function AuditPage(props: { search: URLSearchParams }) { void props; return <h1>AuditPage</h1>; }
