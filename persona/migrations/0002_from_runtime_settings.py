"""The persona prompt of the runtime settings becomes the persona's description
(`luma` 0006 then removes it there). The old default becomes the new default, which
says the same with the persona's name as a macro."""

from django.db import migrations

OLD_DEFAULT = (
    "You are Luma, a cheerful and quick-witted AI VTuber who streams with your community. "
    "You are warm, playful and concise, you remember what people tell you, and you never "
    "pretend to know things you do not."
)


def forwards(apps, schema_editor):
    RuntimeSettings = apps.get_model("luma", "RuntimeSettings")
    Persona = apps.get_model("persona", "Persona")
    row = RuntimeSettings.objects.filter(pk=1).first()
    if row is None or Persona.objects.filter(pk=1).exists():
        return  # a new installation: the persona is made on first read
    prompt = (row.persona_prompt or "").strip()
    persona = Persona(pk=1)
    if prompt and prompt != OLD_DEFAULT:
        persona.description = prompt
    persona.save()


def backwards(apps, schema_editor):
    RuntimeSettings = apps.get_model("luma", "RuntimeSettings")
    Persona = apps.get_model("persona", "Persona")
    persona = Persona.objects.filter(pk=1).first()
    if persona is not None and persona.description.strip():
        prompt = persona.description.replace("{{char}}", persona.name)
        RuntimeSettings.objects.filter(pk=1).update(persona_prompt=prompt)


class Migration(migrations.Migration):
    dependencies = [("persona", "0001_initial"), ("luma", "0005_auto_approval")]

    operations = [migrations.RunPython(forwards, backwards)]
