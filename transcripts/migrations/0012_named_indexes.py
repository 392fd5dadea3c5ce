"""Every index named in the models' Meta.

The meeting date index gets a name (it was `db_index=True`). The two sample indexes
that migrations 0003 and 0004 made with raw SQL enter the model state as they are
(`WHERE meeting_id % 50 = 0`, the form search/engine.py queries use); the smaller one
is renamed to fit Django's 30-character limit for index names.
"""

import django.contrib.postgres.indexes
import django.db.models.functions.math
import django.db.models.lookups
from django.db import migrations, models


def sample_index(modulus: int, name: str):
    condition = models.Q(django.db.models.lookups.Exact(django.db.models.functions.math.Mod("meeting_id", modulus), 0))
    return django.contrib.postgres.indexes.GinIndex(condition=condition, fields=["search_vector"], name=name)


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0011_incremental_vocabulary")]

    operations = [
        migrations.AlterModelManagers(name="meeting", managers=[]),
        migrations.AlterModelManagers(name="utterance", managers=[]),
        migrations.AlterField(model_name="meeting", name="date", field=models.DateField(verbose_name="date")),
        migrations.AddIndex(model_name="meeting", index=models.Index(fields=["date"], name="meeting_date")),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER INDEX utterance_search_small_sample_gin RENAME TO utterance_search_sample250_gin",
                    "ALTER INDEX utterance_search_sample250_gin RENAME TO utterance_search_small_sample_gin",
                )
            ],
            state_operations=[
                migrations.AddIndex(model_name="utterance", index=sample_index(50, "utterance_search_sample_gin")),
                migrations.AddIndex(model_name="utterance", index=sample_index(250, "utterance_search_sample250_gin")),
            ],
        ),
    ]
