export function AppsPage() { return <h1>AppsPage</h1>; }
