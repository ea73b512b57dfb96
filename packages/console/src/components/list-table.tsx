import type { ComponentChildren } from 'preact';

/**
 * The table of a list page or dialog: the column headers given, then the header of the rows'
 * action menus (named for screen readers only), then the rows. `region` makes the scrolling
 * wrapper a named, focusable region, so keyboard users can scroll a wide table.
 */
export function ListTable(props: { head: ComponentChildren; children: ComponentChildren; region?: string; class?: string; testId?: string; caption?: ComponentChildren }) {
  const region = props.region === undefined ? {} : { tabIndex: 0, role: 'region' as const, 'aria-label': props.region };
  return (
    <div class="table-wrap" {...region}>
      <table class={props.class} data-testid={props.testId}>
        {props.caption !== undefined && <caption class="visually-hidden">{props.caption}</caption>}
        <thead>
          <tr>
            {props.head}
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}
