-- Generation: marketing templates, the org's style guide, the cached voice profile, and the
-- generations themselves. Same conventions as every tenant table: org_id first, ENABLE +
-- FORCE ROW LEVEL SECURITY, a *_tenant policy on vf_current_org() and a *_system policy.

-- Templates members write and reuse. Built-ins are seeded per organization as ordinary rows
-- (builtin_key set, created_by NULL) so the org can edit or copy them like its own.
CREATE TABLE marketing_templates (
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind          text NOT NULL CHECK (kind IN ('blog_post', 'email', 'social_post', 'ad', 'landing_page', 'custom')),
    description   text NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    instructions  text NOT NULL CHECK (length(instructions) BETWEEN 1 AND 8000),
    -- [{name, label, required, max_length}], validated by generate::templates.
    fields        jsonb NOT NULL DEFAULT '[]'::jsonb,
    target_length integer CHECK (target_length BETWEEN 10 AND 5000),
    tone          text CHECK (length(tone) <= 200),
    builtin_key   text CHECK (length(builtin_key) <= 64),
    created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    -- Mapped to 409 template_name_taken by name in generate::templates.
    CONSTRAINT marketing_templates_name_unique UNIQUE (org_id, name)
);
CREATE INDEX marketing_templates_org_created ON marketing_templates (org_id, created_at, id);
ALTER TABLE marketing_templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE marketing_templates FORCE ROW LEVEL SECURITY;
CREATE POLICY marketing_templates_tenant ON marketing_templates
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY marketing_templates_system ON marketing_templates USING (vf_is_system()) WITH CHECK (vf_is_system());

-- Which built-in templates an organization has been given, once each: a deleted built-in
-- does not come back, and a built-in added in a later release still reaches existing orgs.
CREATE TABLE template_seeds (
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    builtin_key text NOT NULL CHECK (length(builtin_key) <= 64),
    seeded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, builtin_key)
);
ALTER TABLE template_seeds ENABLE ROW LEVEL SECURITY;
ALTER TABLE template_seeds FORCE ROW LEVEL SECURITY;
CREATE POLICY template_seeds_tenant ON template_seeds
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY template_seeds_system ON template_seeds USING (vf_is_system()) WITH CHECK (vf_is_system());

-- The org's style guide (tone, preferred terms, banned words, do/don't examples), one row
-- per org, validated by generate::guide before it is stored.
CREATE TABLE style_guides (
    org_id     uuid NOT NULL PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    guide      jsonb NOT NULL,
    updated_by uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE style_guides ENABLE ROW LEVEL SECURITY;
ALTER TABLE style_guides FORCE ROW LEVEL SECURITY;
CREATE POLICY style_guides_tenant ON style_guides
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY style_guides_system ON style_guides USING (vf_is_system()) WITH CHECK (vf_is_system());

-- The measured voice profile, cached under the library fingerprint it was computed from
-- (item count + latest updated_at): a changed library recomputes it on the next read.
CREATE TABLE voice_profiles (
    org_id      uuid NOT NULL PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    fingerprint text NOT NULL CHECK (length(fingerprint) <= 128),
    profile     jsonb NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE voice_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE voice_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY voice_profiles_tenant ON voice_profiles
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY voice_profiles_system ON voice_profiles USING (vf_is_system()) WITH CHECK (vf_is_system());

-- One drafted piece: what was asked, what came back, what it rests on, what it cost.
CREATE TABLE generations (
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    template_id   uuid,
    -- Snapshot, so a generation still reads well after its template is renamed or deleted.
    template_name text NOT NULL CHECK (length(template_name) <= 100),
    template_kind text NOT NULL CHECK (length(template_kind) <= 32),
    inputs        jsonb NOT NULL,
    output        text NOT NULL,
    -- [{n, content_id, title, url, excerpt}]: the numbered sources given to the model.
    sources       jsonb NOT NULL,
    -- [{n, content_id, title, url}]: the sources the draft cites.
    citations     jsonb NOT NULL,
    provider      text NOT NULL CHECK (length(provider) <= 32),
    model         text NOT NULL CHECK (length(model) <= 128),
    input_tokens  integer NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens integer NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    voice_score   integer NOT NULL CHECK (voice_score BETWEEN 0 AND 100),
    voice_check   jsonb NOT NULL,
    created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    -- The template stays in the same org; deleting it keeps the generation (and its org_id).
    FOREIGN KEY (org_id, template_id) REFERENCES marketing_templates (org_id, id) ON DELETE SET NULL (template_id)
);
CREATE INDEX generations_org_created ON generations (org_id, created_at DESC, id DESC);
CREATE INDEX generations_org_template ON generations (org_id, template_id) WHERE template_id IS NOT NULL;
ALTER TABLE generations ENABLE ROW LEVEL SECURITY;
ALTER TABLE generations FORCE ROW LEVEL SECURITY;
CREATE POLICY generations_tenant ON generations
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY generations_system ON generations USING (vf_is_system()) WITH CHECK (vf_is_system());
