import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../app/container.js';
import type { Preset } from '../../core/model.js';
import { actorContext } from '../request-context.js';
import { EndpointPattern, IdParams, RelativeDuration, bearerSecurity, presetNamePattern, problemResponses } from '../schemas.js';

const PresetBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  endpoints: Type.Array(Type.String()),
  mode: Type.Union([Type.Literal('refreshable'), Type.Literal('direct')]),
  scope_locked: Type.Boolean(),
  default_lifetime_seconds: Type.Union([Type.Integer(), Type.Null()]),
  source: Type.Union([Type.Literal('config'), Type.Literal('organization')]),
});

function presetBody(preset: Preset) {
  return {
    id: preset.id,
    name: preset.name,
    description: preset.description,
    endpoints: [...preset.endpoints],
    mode: preset.mode,
    scope_locked: preset.scopeLocked,
    default_lifetime_seconds: preset.defaultLifetimeSeconds,
    source: preset.orgId === null ? ('config' as const) : ('organization' as const),
  };
}

/** `/presets`: operator-defined scopes (SPEC 3.5), from the configuration file and per organization. */
export function presetRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/presets',
      { schema: { tags: ['presets'], summary: 'Presets available to this organization', security: bearerSecurity, response: { 200: Type.Object({ items: Type.Array(PresetBody) }), ...problemResponses } } },
      async (request) => ({ items: (await container.tokens.presetsOf(actorContext(request, container).actor.orgId)).map(presetBody) }),
    );

    app.post(
      '/presets',
      {
        schema: {
          tags: ['presets'],
          summary: 'Define a preset for this organization (needs policy.manage)',
          description:
            'Organization presets sit beside the instance-wide ones of TESSERA_PRESETS_FILE (which instance operators manage in that file). A name may not repeat a configured preset, all or custom.',
          security: bearerSecurity,
          body: Type.Object(
            {
              name: Type.String({ minLength: 1, maxLength: 64, pattern: presetNamePattern }),
              description: Type.Optional(Type.String({ maxLength: 1000 })),
              endpoints: Type.Array(EndpointPattern, { minItems: 1, maxItems: 100 }),
              mode: Type.Union([Type.Literal('refreshable'), Type.Literal('direct')]),
              scope_locked: Type.Optional(Type.Boolean()),
              default_lifetime: Type.Optional(RelativeDuration('Relative, e.g. 30D')),
            },
            { additionalProperties: false },
          ),
          response: { 201: PresetBody, ...problemResponses },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const preset = await container.tokens.createPreset(actorContext(request, container), {
          name: body.name,
          description: body.description ?? '',
          endpoints: body.endpoints,
          mode: body.mode,
          scopeLocked: body.scope_locked ?? false,
          defaultLifetime: body.default_lifetime,
        });
        return reply.code(201).send(presetBody(preset));
      },
    );

    app.patch(
      '/presets/:id',
      {
        schema: {
          tags: ['presets'],
          summary: 'Change an organization preset (needs policy.manage)',
          description:
            'Name and mode are fixed: delete the preset and create another to change them. Existing tokens keep the endpoints they were created with; configuration-file presets are changed in the file.',
          security: bearerSecurity,
          params: IdParams,
          body: Type.Object(
            {
              description: Type.Optional(Type.String({ maxLength: 1000 })),
              endpoints: Type.Optional(Type.Array(EndpointPattern, { minItems: 1, maxItems: 100 })),
              scope_locked: Type.Optional(Type.Boolean()),
              default_lifetime: Type.Optional(Type.Union([RelativeDuration('Relative, e.g. 30D'), Type.Null()], { description: 'Relative, e.g. 30D; null: the policy default' })),
            },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: PresetBody, ...problemResponses },
        },
      },
      async (request) => {
        const body = request.body;
        return presetBody(
          await container.tokens.updatePreset(actorContext(request, container), request.params.id, {
            description: body.description,
            endpoints: body.endpoints,
            scopeLocked: body.scope_locked,
            defaultLifetime: body.default_lifetime,
          }),
        );
      },
    );

    app.delete(
      '/presets/:id',
      { schema: { tags: ['presets'], summary: 'Delete an organization preset (needs policy.manage)', security: bearerSecurity, params: IdParams, response: { 204: Type.Null(), ...problemResponses } } },
      async (request, reply) => {
        await container.tokens.deletePreset(actorContext(request, container), request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
