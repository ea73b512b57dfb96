import { api, type Role } from '../api.js';
import { useLoad } from '../use-load.js';

export function useRoles() {
  return useLoad(async () => (await api.get<{ items: Role[] }>('/roles')).items, 'roles');
}

/**
 * A labelled group of role checkboxes with its error under it: the one markup both the
 * organization-wide picker and the token dialog's "subset of the owner's roles" use.
 */
export function RoleChecks(props: {
  legend: string;
  roles: readonly { name: string; title?: string }[];
  chosen: string[];
  onChange: (roles: string[]) => void;
  error?: string | undefined;
  loadError?: string | undefined;
}) {
  return (
    <fieldset class={props.error ? 'field invalid' : 'field'}>
      <legend>{props.legend}</legend>
      {props.loadError && <p class="field-error">{props.loadError}</p>}
      <div class="checks">
        {props.roles.map((role) => (
          <label key={role.name} class="check" title={role.title}>
            <input
              type="checkbox"
              checked={props.chosen.includes(role.name)}
              onChange={(e) => props.onChange(e.currentTarget.checked ? [...props.chosen, role.name] : props.chosen.filter((r) => r !== role.name))}
            />
            {role.name}
          </label>
        ))}
      </div>
      {props.error && (
        <p class="field-error" role="alert">
          {props.error}
        </p>
      )}
    </fieldset>
  );
}

/** Checkboxes of the organization's roles; the server refuses roles with rights the caller lacks. */
export function RolesPicker(props: { legend: string; chosen: string[]; onChange: (roles: string[]) => void; error?: string | undefined }) {
  const roles = useRoles();
  return (
    <RoleChecks
      legend={props.legend}
      roles={(roles.data ?? []).map((role) => ({ name: role.name, title: role.rights.join(', ') }))}
      chosen={props.chosen}
      onChange={props.onChange}
      error={props.error}
      loadError={roles.problem?.detail}
    />
  );
}
