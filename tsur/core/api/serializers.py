import copy

from rest_framework import serializers

from tsur.core.models import Building, Organisation, Territory


class PrebuiltFields:
    """For a serializer built on every request of a hot endpoint: its declared fields are built once
    per class and each serializer gets shallow copies of them.

    DRF builds a fresh copy of every declared field for every serializer (re-running each field's
    constructor), which for the appeal intake was more than half of validating it. A plain field
    keeps nothing per request but what binding sets on its copy (name, parent); a field holding
    other fields (a list's child, a nested serializer) is still built afresh, as DRF would.
    """

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_prebuilt_fields")
        if built is None:
            built = copy.deepcopy(self._declared_fields)
            cls._prebuilt_fields = built
        return {
            name: copy.deepcopy(field) if _holds_fields(field) else copy.copy(field)
            for name, field in built.items()
        }


def _holds_fields(field) -> bool:
    return (
        isinstance(field, serializers.BaseSerializer)
        or hasattr(field, "child")
        or hasattr(field, "child_relation")
    )


class TerritorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Territory
        fields = ["id", "name", "kind", "parent", "code", "oktmo"]


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "short_name", "kind", "parent", "territories", "is_active"]


class BuildingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Building
        fields = ["id", "address", "latitude", "longitude", "territory", "kind", "management_company"]


class OrganisationBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)


class TerritoryBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)
