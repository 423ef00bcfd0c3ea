import pytest

from tsur.core.importers import ImportFailed, import_buildings, import_organisations, import_territories
from tsur.core.models import Building, Organisation, Territory

pytestmark = pytest.mark.django_db

TERRITORIES = """code,name,kind,parent_code,oktmo
r-mo-1,Округ №1,municipal_okrug,r-d,
r,Регион,region,,
r-d,Район,city_district,r,40300000
"""


def test_territories_import_parents_first_whatever_the_order():
    assert import_territories(TERRITORIES) == 3
    okrug = Territory.objects.get(code="r-mo-1")
    assert [t.code for t in okrug.ancestors()] == ["r", "r-d", "r-mo-1"]


def test_a_bad_row_rejects_the_whole_file():
    bad = TERRITORIES + "x,Икс,planet,,\n"
    with pytest.raises(ImportFailed, match="строка 5: неизвестный тип «planet»"):
        import_territories(bad)
    assert Territory.objects.count() == 0


def test_missing_columns_are_named():
    with pytest.raises(ImportFailed, match="нет столбцов: kind"):
        import_territories("code,name\na,b\n")


def test_organisations_and_buildings():
    import_territories(TERRITORIES)
    import_organisations(
        "name,short_name,kind,parent,inn,email,territories\n"
        "УК Дом,УК,management_company,Администрация,,uk@example.org,r-d\n"
        "Администрация,,municipal_administration,,,,r-d;r-mo-1\n"
    )
    company = Organisation.objects.get(name="УК Дом")
    assert company.parent.name == "Администрация"
    assert sorted(
        Organisation.objects.get(name="Администрация").territories.values_list("code", flat=True)
    ) == ["r-d", "r-mo-1"]
    assert (
        import_buildings(
            "address,latitude,longitude,territory,kind,management_company\n"
            "ул. Ленина 1,59.9,30.3,r-mo-1,building,УК Дом\n"
        )
        == 1
    )
    assert Building.objects.get().management_company == company


def test_buildings_with_bad_coordinates_are_refused():
    import_territories(TERRITORIES)
    with pytest.raises(ImportFailed, match="широта «север» не число"):
        import_buildings("address,latitude,longitude,territory\nул. Ленина 1,север,30.3,r\n")
    assert Building.objects.count() == 0


def test_admin_import_screen(client, django_user_model):
    admin_user = django_user_model.objects.create_superuser("root", "root@example.org", "pass-Word-123")
    client.force_login(admin_user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = client.get("/admin/core/territory/")
    assert "Импорт из CSV" in page.content.decode()
    bad = SimpleUploadedFile("t.csv", b"code,name,kind\nx,X,planet\n")
    response = client.post("/admin/import/", {"kind": "territories", "file": bad})
    assert response.status_code == 200
    assert "неизвестный тип" in response.content.decode()
    assert Territory.objects.count() == 0
    good = SimpleUploadedFile("t.csv", TERRITORIES.encode())
    response = client.post("/admin/import/", {"kind": "territories", "file": good})
    assert response.status_code == 302
    assert Territory.objects.count() == 3


def test_admin_import_screen_needs_an_administrator(client, django_user_model):
    staff = django_user_model.objects.create_user("clerk", password="pass-Word-123", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/import/").status_code == 403
