export function ApiTokensPage(props: { search: URLSearchParams }) { void props; return <h1>ApiTokensPage</h1>; }
