"""The pure rules of apps/orders/checks.py: plain snapshots in, errors and warnings out, no database."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from apps.orders.checks import OrderState, ServiceState, evaluate, row_errors

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=MSK)
ANNA, BORIS = 1, 2


def at(day: int, hour: int = 10, tz=MSK) -> datetime:
    return datetime(2026, 12, day, hour, 0, tzinfo=tz)


def service(pk, kind, start, end, *, travellers=(ANNA,), **extra) -> ServiceState:
    return ServiceState(id=pk, type=kind, status=extra.pop("status", "booked"), start_dt=start, end_dt=end,
                        traveller_ids=frozenset(travellers), **extra)


def flight(pk, start, hours=4, origin="SVO", destination="AYT", **extra) -> ServiceState:
    return service(pk, "flight", start, start + timedelta(hours=hours), origin=origin, destination=destination,
                   **extra)


def hotel(pk, start, nights=7, city="Анталья", **extra) -> ServiceState:
    return service(pk, "hotel", start, start + timedelta(days=nights), city=city, tz="Europe/Istanbul", **extra)


def order(travellers=(ANNA, BORIS), **extra) -> OrderState:
    return OrderState(traveller_ids=frozenset(travellers), **extra)


def codes(issues) -> list[str]:
    return sorted(issue.code for issue in issues)


def test_a_consistent_trip_has_no_issues():
    trip = [flight(1, at(2)), service(2, "transfer", at(2, 15), at(2, 16), origin="AYT", destination="Кемер"),
            hotel(3, at(2, 17)), service(5, "transfer", at(9, 5), at(9, 6), origin="Кемер", destination="AYT"),
            flight(4, at(9), origin="AYT", destination="SVO")]
    result = evaluate(order(), trip, now=NOW)
    assert (result.errors, result.warnings) == ([], [])


def test_row_errors_name_the_field():
    bad = service(1, "excursion", at(5), at(4), price=Decimal("-1"), commission=Decimal("5"))
    issues = row_errors([bad])
    assert codes(issues) == ["end_before_start", "negative_price"]
    assert {issue.fields for issue in issues} == {("end_dt",), ("price",)}
    assert codes(row_errors([service(2, "excursion", at(4), at(5), price=Decimal(10), commission=Decimal(11))])) == [
        "commission_above_price"
    ]


def test_one_traveller_cannot_be_on_two_overlapping_transports():
    result = evaluate(order(), [flight(1, at(2)), flight(2, at(2, 12), origin="VKO")], now=NOW)
    assert codes(result.errors) == ["transport_overlap"] and result.errors[0].service_ids == (1, 2)
    apart = evaluate(order(), [flight(1, at(2), travellers=[ANNA]), flight(2, at(2, 12), travellers=[BORIS])],
                     now=NOW)
    assert apart.errors == []  # different travellers may fly at the same time
    cancelled = evaluate(order(), [flight(1, at(2)), flight(2, at(2, 12), status="cancelled")], now=NOW)
    assert cancelled.errors == []


def test_a_traveller_must_be_on_the_order():
    result = evaluate(order(travellers=[ANNA]), [flight(1, at(2), travellers=[BORIS])], now=NOW)
    assert len(result.errors) == 1 and result.errors[0].service_ids == (1,)


def test_warnings_hotel_overlap_gap_and_night_without_hotel():
    result = evaluate(order(), [hotel(1, at(2)), hotel(2, at(5), city="Кемер")], now=NOW)
    assert codes(result.warnings) == ["hotel_overlap"]
    gap = evaluate(order(), [flight(1, at(2)), flight(2, at(9), origin="IST", destination="SVO")], now=NOW)
    assert codes(gap.warnings) == ["geography_gap"]
    night = evaluate(order(), [flight(1, at(2, 10)), hotel(2, at(3, 14))], now=NOW)
    assert codes(night.warnings) == ["night_without_hotel"]


def test_passport_expiry_uses_six_months_abroad():
    trip = [flight(1, at(2)), flight(2, at(9), origin="AYT", destination="SVO")]
    short = order(passports={ANNA: [("foreign", date(2027, 3, 1))]})
    assert codes(evaluate(short, trip, now=NOW).warnings) == ["passport_expires"]
    long = order(passports={ANNA: [("foreign", date(2028, 1, 1))]})
    assert evaluate(long, trip, now=NOW).warnings == []
    home = [flight(1, at(2), origin="SVO", destination="LED")]
    assert evaluate(order(passports={ANNA: [("internal", date(2027, 1, 1))]}), home, now=NOW).warnings == []


def test_deadline_passed_only_while_the_order_is_open():
    past = NOW - timedelta(days=1)
    assert codes(evaluate(order(deadline=past), [], now=NOW).warnings) == ["deadline_passed"]
    assert evaluate(order(deadline=past, status="paid"), [], now=NOW).warnings == []
    assert evaluate(order(deadline=NOW + timedelta(days=1)), [], now=NOW).warnings == []


def test_warnings_are_stored_as_plain_dicts():
    result = evaluate(order(), [hotel(1, at(2)), hotel(2, at(5))], now=NOW)
    assert result.warning_dicts == [{"code": "hotel_overlap", "message": result.warnings[0].message,
                                     "service_ids": [1, 2]}]
