import { api, type Role } from '../api.js';
import { useLoad } from '../use-load.js';

export function useRoles() {
  return useLoad(async () => (await api.get<{ items: Role[] }>('/roles')).items, 'roles');
}

/** Checkboxes of the organization's roles; the server refuses roles with rights the caller lacks. */
export function RolesPicker(props: { legend: string; chosen: string[]; onChange: (roles: string[]) => void; error?: string | undefined }) {
  const roles = useRoles();
  return (
    <fieldset class={props.error ? 'field invalid' : 'field'}>
      <legend>{props.legend}</legend>
      {roles.problem && <p class="field-error">{roles.problem.detail}</p>}
      <div class="checks">
        {(roles.data ?? []).map((role) => (
          <label key={role.id} class="check" title={role.rights.join(', ')}>
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
