"""The areas a watch-list covers (territories of the register): an actionable post that names a
place outside all of them is not an incident of this region. It is kept with the territory it
names (`Post.elsewhere`) and listed for the moderator, who may take it in.

Most posts name no place at all, and those stay in; so does a post that names only a territory
containing an area (the city, when the watch-list covers one of its districts): it cannot be told
apart. A watch-list with no territories covers everywhere, and costs nothing here.
"""

from dataclasses import dataclass

from tsur.appeals import routing, understanding


@dataclass(frozen=True)
class Areas:
    """The materialised paths of the watch-list's territories ("/1/4/"); none: everywhere."""

    paths: tuple[str, ...] = ()

    def outside(self, territory_id: int | None) -> bool:
        """Whether the territory lies apart from every area: neither in one nor containing one."""
        if not self.paths or territory_id is None:
            return False
        territory = routing.table().territories.get(territory_id)
        if territory is None or not territory.path:
            return False
        path = territory.path
        return not any(path.startswith(area) or area.startswith(path) for area in self.paths)

    def elsewhere(self, text: str, territory_id: int | None) -> int | None:
        """The territory the post names outside the areas (the place its street and house give, or
        else the one district it names), or None when it is in or names none."""
        if not self.paths:
            return None
        if territory_id is None:
            district = understanding.named_district(text)
            territory_id = district.pk if district is not None else None
        return territory_id if self.outside(territory_id) else None


def of(watchlist) -> Areas:
    """The areas of a watch-list, read from the register (one query)."""
    return Areas(tuple(path for path in watchlist.territories.values_list("path", flat=True) if path))
